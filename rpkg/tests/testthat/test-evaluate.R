# evaluate_emotions(): transforEmotion's interface, numbers against scikit-learn
# (computed through reticulate on the same data), bad input.

emotions <- c("anger", "joy", "sadness", "fear", "surprise")

evaluation_data <- function(n = 120) {
  set.seed(42)
  data <- data.frame(id = seq_len(n),
                     truth = sample(emotions, n, replace = TRUE, prob = c(.2, .3, .2, .15, .15)),
                     stringsAsFactors = FALSE)
  data$pred <- data$truth
  wrong <- sample(n, n / 4)
  data$pred[wrong] <- sample(emotions, length(wrong), replace = TRUE)
  for (e in emotions) {
    # two decimals: many tied scores, which AUROC counts one half
    data[[paste0("prob_", e)]] <- round(ifelse(data$truth == e, runif(n, .5, .9), runif(n, 0, .5)), 1)
  }
  data
}

# scikit-learn's numbers as plain Python floats and lists (reticulate 1.28 cannot
# convert NumPy 2 arrays)
sklearn_reference <- function(data, classes) {
  main <- reticulate::py_run_string(paste(
    "from sklearn import metrics as _m",
    "def _reference(truth, pred, classes, probs):",
    "    out = {'accuracy': float(_m.accuracy_score(truth, pred))}",
    "    for average in ('macro', 'micro'):",
    "        p, r, f, _ = _m.precision_recall_fscore_support(truth, pred, labels=classes, average=average, zero_division=0)",
    "        out[average] = [float(p), float(r), float(f)]",
    "    out['f1'] = _m.f1_score(truth, pred, labels=classes, average=None, zero_division=0).tolist()",
    "    out['auroc'] = [float(_m.roc_auc_score([t == c for t in truth], probs[c])) for c in classes]",
    "    out['confusion'] = _m.confusion_matrix(truth, pred, labels=classes).tolist()",
    "    return out", sep = "\n"), convert = FALSE)
  probs <- lapply(stats::setNames(classes, classes), function(e) as.list(data[[paste0("prob_", e)]]))
  reticulate::py_to_r(main$`_reference`(as.list(data$truth), as.list(data$pred), as.list(classes), probs))
}

test_that("evaluate_emotions() gives scikit-learn's numbers in transforEmotion's shape", {
  skip_if_no_python()
  data <- evaluation_data()
  probs <- paste0("prob_", emotions)
  result <- evaluate_emotions(data, probs_cols = probs, classes = emotions)
  expect_s3_class(result, "emotion_evaluation")
  expect_identical(result$summary$n_instances, 120L)
  expect_identical(result$summary$classes, emotions)
  expect_identical(result$metrics$metric,
                   c("accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_micro",
                     "auroc_macro", "ece", "krippendorff_alpha"))
  reference <- sklearn_reference(data, emotions)
  expect_equal(result$accuracy, reference$accuracy, tolerance = 1e-12)
  for (average in c("macro", "micro")) {
    expect_equal(result[[paste0("precision_", average)]], reference[[average]][[1]], tolerance = 1e-12)
    expect_equal(result[[paste0("recall_", average)]], reference[[average]][[2]], tolerance = 1e-12)
    expect_equal(result[[paste0("f1_", average)]], reference[[average]][[3]], tolerance = 1e-12)
  }
  expect_equal(result$per_class_metrics$f1, unlist(reference$f1), tolerance = 1e-12)
  expect_identical(result$per_class_metrics$class, emotions)
  auroc <- unlist(reference$auroc)
  expect_equal(result$auroc$per_class$auroc, auroc, tolerance = 1e-12)
  expect_equal(result$auroc$macro, mean(auroc), tolerance = 1e-12)
  # the confusion matrix: predicted classes as rows, reference as columns, with margins
  cm <- result$confusion_matrix
  expect_identical(dimnames(cm), list(Predicted = c(emotions, "Sum"), Actual = c(emotions, "Sum")))
  reference_cm <- do.call(rbind, lapply(reference$confusion, unlist))  # rows: reference
  expect_equal(unclass(cm)[1:5, 1:5], t(reference_cm), ignore_attr = TRUE)
  expect_identical(as.numeric(cm["Sum", "Sum"]), 120)
})

test_that("probability columns are matched to classes by name, in any order", {
  skip_if_no_python()
  data <- evaluation_data()
  shuffled <- paste0("prob_", rev(emotions))
  by_name <- evaluate_emotions(data, probs_cols = shuffled, metrics = c("auroc", "ece"))
  # classes default to the names of the probability columns
  expect_identical(by_name$summary$classes, rev(emotions))
  ordered <- evaluate_emotions(data, probs_cols = paste0("prob_", emotions), classes = rev(emotions),
                               metrics = c("auroc", "ece"))
  expect_equal(by_name$auroc, ordered$auroc)
  expect_equal(by_name$ece, ordered$ece)
})

test_that("missing values are dropped with a warning, or are an error with na_rm = FALSE", {
  skip_if_no_python()
  data <- evaluation_data()
  data$truth[1:5] <- NA
  data$pred[6:10] <- NA
  expect_warning(result <- evaluate_emotions(data, metrics = c("accuracy", "f1_macro")),
                 "dropped 10 of 120 rows", class = "pybridge_warning")
  expect_identical(result$summary$n_instances, 110L)
  expect_identical(result$summary$n_dropped, 10L)
  expect_equal(result$accuracy, mean(data$truth[-(1:10)] == data$pred[-(1:10)]))
  expect_error(evaluate_emotions(data, na_rm = FALSE), "pass na_rm=True",
               class = "pybridge_invalid_input")
})

test_that("predictions come from the probabilities when there is no prediction column", {
  skip_if_no_python()
  data <- data.frame(truth = c("joy", "anger", "joy", "anger"),
                     prob_joy = c(.9, .6, .2, .1), prob_anger = c(.1, .4, .8, .9))
  result <- evaluate_emotions(data, probs_cols = c("prob_joy", "prob_anger"))
  expect_equal(result$accuracy, 0.5)
  expect_identical(result$summary$classes, c("joy", "anger"))
})

test_that("a CSV path, column aliases and transforEmotion's metric names work", {
  skip_if_no_python()
  data <- evaluation_data(40)
  names(data)[names(data) == "truth"] <- "emo8_label"
  path <- tempfile(fileext = ".csv")
  utils::write.csv(data, path, row.names = FALSE)
  result <- evaluate_emotions(path, metrics = c("accuracy", "f1_macro", "krippendorff"))
  expect_identical(result$metrics$metric, c("accuracy", "f1_macro", "krippendorff_alpha"))
  expect_null(result$confusion_matrix)
  expect_null(result$auroc)
  expect_true(is.numeric(result$krippendorff_alpha))
  expect_output(print(result), "40 rows evaluated, 5 classes")
  expect_output(summary(result), "Per class")
})

test_that("plot() returns ggplot objects and return_plot adds plot data", {
  skip_if_no_python()
  skip_if_not_installed("ggplot2")
  result <- evaluate_emotions(evaluation_data(60), return_plot = TRUE)
  expect_identical(names(result$plot_data), c("confusion_matrix", "per_class_metrics"))
  expect_identical(nrow(result$plot_data$confusion_matrix), 25L)
  plots <- plot(result)
  expect_s3_class(plots$confusion_matrix, "ggplot")
  expect_s3_class(plots$metrics, "ggplot")
  built <- ggplot2::ggplot_build(plots$confusion_matrix)
  expect_identical(sum(built$data[[2]]$label), 60)
  expect_s3_class(plot(result, type = "metrics"), "ggplot")
  expect_error(plot(result, type = "roc"), class = "pybridge_invalid_input")
})

test_that("bad input gives typed errors", {
  skip_if_no_python()
  data <- evaluation_data(20)
  expect_error(evaluate_emotions(data, metrics = c("accuracy", "f2")), "unknown metrics",
               class = "pybridge_invalid_input")
  expect_error(evaluate_emotions(data[names(data) != "truth"], truth_col = "label"), "label",
               class = "pybridge_invalid_input")
  expect_error(evaluate_emotions(data[c("truth", "prob_joy")], pred_col = "guess"),
               "no `probs_cols`", class = "pybridge_invalid_input")
  expect_error(evaluate_emotions(data, probs_cols = c("prob_joy", "prob_calm")),
               class = "pybridge_invalid_input")
  expect_error(evaluate_emotions(data[0, ]), "no rows", class = "pybridge_invalid_input")
  expect_error(evaluate_emotions(file.path(tempdir(), "none.csv")), "not found",
               class = "pybridge_invalid_input")
  expect_error(evaluate_emotions(list(1, 2)), class = "pybridge_invalid_input")
  expect_warning(evaluate_emotions(data, metrics = c("accuracy", "auroc")),
                 "need class probabilities", class = "pybridge_warning")
})
