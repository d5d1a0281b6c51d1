#' Evaluate emotion classifications against reference labels
#'
#' Compares the class a model gave each item (image, frame, text) with a reference
#' label, and its class probabilities with that label when they are given. The
#' numbers come from the Python function \code{pybridge.evaluate_emotions}, which is
#' tested against scikit-learn.
#'
#' @param data A data frame with one row per rated item, or the path of a CSV file
#'   holding one.
#' @param id_col Name of an identifier column. Accepted for transforEmotion scripts;
#'   it is not needed and not used.
#' @param truth_col Column of reference labels (default \code{"truth"}). When it is
#'   not in \code{data}, the first of \code{truth}, \code{emo8_label},
#'   \code{emotion_label} and \code{emotion} that is there is used.
#' @param pred_col Column of predicted labels (default \code{"pred"}). When it is not
#'   in \code{data}, the first of \code{pred}, \code{prediction} and
#'   \code{predicted_emotion} is used; when none is there and \code{probs_cols} is
#'   given, the prediction is the class with the highest probability (ties go to the
#'   first class).
#' @param probs_cols Optional probability columns, one per class. A column is matched
#'   to its class by name: \code{joy} or \code{prob_joy} hold class \code{joy}. When
#'   no name matches and \code{classes} has as many entries, the columns are paired
#'   with \code{classes} in order.
#' @param classes Optional character vector of the classes, in the order of every
#'   per-class result. By default the names of the probability columns, else the
#'   sorted labels seen in the truth and prediction columns.
#' @param metrics Metrics to compute, any of \code{"accuracy"}, \code{"precision"},
#'   \code{"recall"}, \code{"f1_macro"}, \code{"f1_micro"}, \code{"auroc"},
#'   \code{"ece"}, \code{"krippendorff"} and \code{"confusion_matrix"} (default: all).
#'   \code{"auroc"} and \code{"ece"} need \code{probs_cols}; without them they are
#'   left out (with a warning when asked for explicitly).
#' @param return_plot If \code{TRUE}, the result also holds \code{plot_data}: the
#'   confusion matrix in long form and the per-class metrics.
#' @param na_rm If \code{TRUE} (default), rows missing the reference, the prediction
#'   or a probability are dropped with a warning; if \code{FALSE} they are an error.
#' @param ece_bins Number of equal-width confidence bins of the expected calibration
#'   error (default 10, as in transforEmotion).
#'
#' @return An object of class \code{emotion_evaluation}, a list with (depending on
#'   \code{metrics}):
#'   \describe{
#'     \item{\code{accuracy}}{Share of rows whose prediction equals the reference.}
#'     \item{\code{precision_macro}, \code{precision_micro}, \code{recall_macro},
#'       \code{recall_micro}, \code{f1_macro}, \code{f1_micro}}{Averages over classes
#'       (macro) or over rows (micro). A class never predicted has precision 0.}
#'     \item{\code{per_class_metrics}}{Data frame \code{class}, \code{precision},
#'       \code{recall}, \code{f1}, \code{support}.}
#'     \item{\code{confusion_matrix}}{Table of counts, predicted classes as rows and
#'       reference classes as columns, with \code{Sum} margins.}
#'     \item{\code{auroc}}{List: \code{per_class} (data frame \code{class},
#'       \code{auroc}, \code{NA} for a class without positive or negative rows),
#'       \code{macro} and \code{weighted} (by support) over the defined classes.}
#'     \item{\code{ece}}{Expected calibration error of the probability of the
#'       predicted class.}
#'     \item{\code{krippendorff_alpha}}{Nominal Krippendorff's alpha between reference
#'       and prediction.}
#'     \item{\code{metrics}}{Data frame \code{metric}, \code{value} of the overall
#'       numbers.}
#'     \item{\code{per_class}}{Data frame \code{class}, \code{support}.}
#'     \item{\code{summary}}{List: \code{n_instances} (rows evaluated),
#'       \code{n_dropped}, \code{n_classes}, \code{classes}, \code{accuracy}.}
#'     \item{\code{plot_data}}{With \code{return_plot = TRUE}.}
#'   }
#'
#' @section Differences from transforEmotion:
#' Probability columns are matched to classes by name (\code{prob_joy} to
#' \code{joy}); transforEmotion paired them by position with the sorted classes,
#' which mixes classes up when the columns are in another order. AUROC counts tied
#' scores one half (as scikit-learn does); transforEmotion's ranking depended on the
#' row order among ties. Krippendorff's alpha is the exact nominal alpha (with its
#' small-sample correction), not the uncorrected agreement ratio. The calibration
#' error uses the probability of the predicted class, renormalised over the classes.
#' Missing probability columns are an error instead of a warning, and an unknown
#' metric name is an error instead of being ignored.
#'
#' @seealso \code{\link{plot.emotion_evaluation}}
#' @export
#' @examples
#' set.seed(1)
#' emotions <- c("anger", "joy", "sadness")
#' data <- data.frame(truth = sample(emotions, 60, replace = TRUE))
#' data$pred <- ifelse(runif(60) < 0.7, data$truth, sample(emotions, 60, replace = TRUE))
#' for (e in emotions) data[[paste0("prob_", e)]] <- runif(60) + (data$truth == e)
#' \donttest{
#' if (reticulate::py_module_available("pybridge")) {
#'   result <- evaluate_emotions(data, probs_cols = paste0("prob_", emotions))
#'   result
#'   result$per_class_metrics
#' }
#' }
evaluate_emotions <- function(data, id_col = "id", truth_col = "truth", pred_col = "pred",
                              probs_cols = NULL, classes = NULL,
                              metrics = c("accuracy", "precision", "recall", "f1_macro",
                                          "f1_micro", "auroc", "ece", "krippendorff",
                                          "confusion_matrix"),
                              return_plot = FALSE, na_rm = TRUE, ece_bins = 10) {
  check_flag(return_plot, "return_plot")
  check_flag(na_rm, "na_rm")
  data <- evaluation_table(data)
  if (!is.character(metrics) || length(metrics) == 0 || anyNA(metrics)) {
    pybridge_abort("invalid_input", paste0(
      "`metrics` must be a character vector of metric names, e.g. ",
      "c(\"accuracy\", \"f1_macro\")."))
  }
  if (!is.null(probs_cols) && (!is.character(probs_cols) || anyNA(probs_cols))) {
    pybridge_abort("invalid_input", "`probs_cols` must be a character vector of column names.")
  }
  check_labels(classes, allow_null = TRUE)
  truth_col <- column_or_alias(data, truth_col, c("truth", "emo8_label", "emotion_label", "emotion"))
  pred_col <- column_or_alias(data, pred_col, c("pred", "prediction", "predicted_emotion"))
  if (!pred_col %in% names(data)) {
    if (is.null(probs_cols)) {
      pybridge_abort("invalid_input", sprintf(paste0(
        "Column '%s' (predicted labels) is not in the data and no `probs_cols` were given ",
        "to derive predictions from. Columns: %s."), pred_col, paste(names(data), collapse = ", ")))
    }
    pred_col <- NULL
  }
  if (is.null(probs_cols) && any(c("auroc", "ece") %in% metrics)) {
    if (!missing(metrics)) {
      warning(warningCondition(paste0(
        "\"auroc\" and \"ece\" need class probabilities; pass `probs_cols` to compute them. ",
        "They are left out."), class = "pybridge_warning"))
    }
    metrics <- setdiff(metrics, c("auroc", "ece"))
  }
  # precision, recall and F1 come together, as do accuracy and the summary
  computed <- unique(c("accuracy", metrics,
                       if (any(c("precision", "recall", "f1_macro", "f1_micro") %in% metrics))
                         c("precision", "recall", "f1_macro")))
  evaluation <- py_call("evaluate_emotions", data, truth = truth_col, pred = pred_col,
                        probs = as_py_list(probs_cols), classes = as_py_list(classes),
                        metrics = as.list(computed), ece_bins = as_count(ece_bins),
                        na_rm = na_rm)
  numbers <- from_python(py_call("to_dict", .object = evaluation))
  result <- evaluation_result(numbers, metrics)
  if (return_plot) result$plot_data <- evaluation_plot_data(result)
  result
}

evaluation_table <- function(data) {
  if (is.character(data) && length(data) == 1 && !is.na(data)) {
    if (!file.exists(data)) {
      pybridge_abort("invalid_input", sprintf(
        "Data file not found: %s. Pass a data frame or the path of a CSV file.", data),
        call = sys.call(-1))
    }
    data <- utils::read.csv(data, stringsAsFactors = FALSE, check.names = FALSE)
  }
  if (!is.data.frame(data)) {
    pybridge_abort("invalid_input", "`data` must be a data frame or the path of a CSV file.",
                   call = sys.call(-1))
  }
  data
}

column_or_alias <- function(data, column, aliases) {
  if (!is.character(column) || length(column) != 1 || is.na(column)) {
    pybridge_abort("invalid_input", "Column names must be single strings.", call = sys.call(-1))
  }
  if (column %in% names(data)) return(column)
  present <- intersect(aliases, names(data))
  if (length(present) > 0) present[1] else column
}

evaluation_result <- function(numbers, metrics) {
  classes <- as.character(unlist(numbers$classes))
  per_class <- numbers$per_class
  per_class_value <- function(field) {
    vapply(classes, function(k) {
      value <- per_class[[k]][[field]]
      if (is.null(value)) NA_real_ else as.numeric(value)
    }, numeric(1), USE.NAMES = FALSE)
  }
  support <- per_class_value("support")
  result <- list()
  if ("accuracy" %in% metrics) result$accuracy <- numbers$accuracy
  if ("precision" %in% metrics) {
    result$precision_macro <- numbers$precision$macro
    result$precision_micro <- numbers$precision$micro
  }
  if ("recall" %in% metrics) {
    result$recall_macro <- numbers$recall$macro
    result$recall_micro <- numbers$recall$micro
  }
  if ("f1_macro" %in% metrics) result$f1_macro <- numbers$f1$macro
  if ("f1_micro" %in% metrics) result$f1_micro <- numbers$f1$micro
  if (!is.null(numbers$f1)) {
    result$per_class_metrics <- data.frame(
      class = classes, precision = per_class_value("precision"),
      recall = per_class_value("recall"), f1 = per_class_value("f1"),
      support = as.integer(support), stringsAsFactors = FALSE)
  }
  if ("confusion_matrix" %in% metrics && !is.null(numbers$confusion)) {
    counts <- vapply(classes, function(truth) {
      vapply(classes, function(pred) as.numeric(numbers$confusion[[truth]][[pred]]), numeric(1))
    }, numeric(length(classes)))
    # rows: predicted class, columns: reference class (transforEmotion's layout)
    counts <- matrix(counts, nrow = length(classes),
                     dimnames = list(Predicted = classes, Actual = classes))
    result$confusion_matrix <- stats::addmargins(as.table(counts))
  }
  if ("auroc" %in% metrics && !is.null(numbers$auroc)) {
    per_class_auroc <- per_class_value("auroc")
    per_class_auroc[is.nan(per_class_auroc)] <- NA_real_
    result$auroc <- list(
      per_class = data.frame(class = classes, auroc = per_class_auroc, stringsAsFactors = FALSE),
      macro = nan_to_na(numbers$auroc$macro), weighted = nan_to_na(numbers$auroc$weighted))
  }
  if ("ece" %in% metrics && !is.null(numbers$ece)) result$ece <- numbers$ece
  if ("krippendorff" %in% metrics && !is.null(numbers$krippendorff_alpha)) {
    result$krippendorff_alpha <- nan_to_na(numbers$krippendorff_alpha)
  }
  rows <- list(accuracy = result$accuracy, precision_macro = result$precision_macro,
               recall_macro = result$recall_macro, f1_macro = result$f1_macro,
               f1_micro = result$f1_micro, auroc_macro = result$auroc$macro,
               ece = result$ece, krippendorff_alpha = result$krippendorff_alpha)
  rows <- Filter(Negate(is.null), rows)
  result$metrics <- data.frame(metric = names(rows), value = as.numeric(unlist(rows)),
                               stringsAsFactors = FALSE)
  result$per_class <- data.frame(class = classes, support = as.integer(support),
                                 stringsAsFactors = FALSE)
  result$summary <- list(n_instances = as.integer(numbers$n),
                         n_dropped = as.integer(numbers$n_dropped),
                         n_classes = length(classes), classes = classes,
                         accuracy = numbers$accuracy)
  class(result) <- c("emotion_evaluation", "list")
  result
}

nan_to_na <- function(x) if (is.null(x) || is.nan(x)) NA_real_ else x

evaluation_plot_data <- function(x) {
  out <- list()
  if (!is.null(x$confusion_matrix)) {
    n <- nrow(x$confusion_matrix) - 1
    counts <- x$confusion_matrix[seq_len(n), seq_len(n), drop = FALSE]
    out$confusion_matrix <- data.frame(
      Predicted = rep(rownames(counts), times = n),
      Actual = rep(colnames(counts), each = n),
      Count = as.vector(counts), stringsAsFactors = FALSE)
  }
  if (!is.null(x$per_class_metrics)) out$per_class_metrics <- x$per_class_metrics
  out
}

#' @rdname plot.emotion_evaluation
#' @param ... Not used.
#' @export
print.emotion_evaluation <- function(x, ...) {
  s <- x$summary
  cat("Emotion classification evaluation\n")
  cat(sprintf("  %d rows evaluated%s, %d classes: %s\n", s$n_instances,
              if (isTRUE(s$n_dropped > 0)) sprintf(" (%d dropped: missing values)", s$n_dropped) else "",
              s$n_classes, paste(s$classes, collapse = ", ")))
  if (nrow(x$metrics) > 0) {
    cat("\n")
    shown <- x$metrics
    shown$value <- round(shown$value, 4)
    print(shown, row.names = FALSE)
  }
  invisible(x)
}

#' @rdname plot.emotion_evaluation
#' @param object An \code{emotion_evaluation}.
#' @export
summary.emotion_evaluation <- function(object, ...) {
  print(object)
  if (!is.null(object$per_class_metrics)) {
    cat("\nPer class:\n")
    shown <- object$per_class_metrics
    shown[c("precision", "recall", "f1")] <- round(shown[c("precision", "recall", "f1")], 4)
    if (!is.null(object$auroc)) shown$auroc <- round(object$auroc$per_class$auroc, 4)
    print(shown, row.names = FALSE)
  }
  if (!is.null(object$confusion_matrix)) {
    cat("\nConfusion matrix (rows: predicted, columns: reference):\n")
    print(object$confusion_matrix)
  }
  invisible(object)
}

#' Plot, print and summarise an emotion evaluation
#'
#' \code{plot()} draws the confusion matrix as a heat map and the per-class
#' precision, recall and F1 as bars, with 'ggplot2'. \code{print()} shows the overall
#' metrics; \code{summary()} adds the per-class metrics and the confusion matrix.
#'
#' @param x An \code{emotion_evaluation} from \code{\link{evaluate_emotions}}.
#' @param type \code{"both"} (default), \code{"confusion_matrix"} or \code{"metrics"}.
#'
#' @return \code{plot()}: a ggplot object, or a list \code{confusion_matrix},
#'   \code{metrics} of them for \code{type = "both"}. \code{print()} and
#'   \code{summary()}: \code{x} (or \code{object}), invisibly.
#' @export
#' @examples
#' \donttest{
#' if (reticulate::py_module_available("pybridge") &&
#'     requireNamespace("ggplot2", quietly = TRUE)) {
#'   data <- data.frame(truth = c("joy", "anger", "joy", "anger"),
#'                      pred = c("joy", "joy", "joy", "anger"))
#'   result <- evaluate_emotions(data)
#'   summary(result)
#'   plots <- plot(result)
#' }
#' }
plot.emotion_evaluation <- function(x, type = "both", ...) {
  if (!is.character(type) || length(type) != 1 ||
      !type %in% c("both", "confusion_matrix", "metrics")) {
    pybridge_abort("invalid_input",
                   "`type` must be \"both\", \"confusion_matrix\" or \"metrics\".")
  }
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    pybridge_abort("missing_dependency",
                   "Plotting an evaluation needs the 'ggplot2' package: install.packages(\"ggplot2\").")
  }
  data <- evaluation_plot_data(x)
  plots <- list()
  if (type %in% c("both", "confusion_matrix") && !is.null(data$confusion_matrix)) {
    plots$confusion_matrix <- ggplot2::ggplot(
      data$confusion_matrix, columns_aes(x = "Actual", y = "Predicted", fill = "Count")) +
      ggplot2::geom_tile(colour = "white") +
      ggplot2::geom_text(columns_aes(label = "Count")) +
      ggplot2::scale_fill_gradient(low = "white", high = "steelblue") +
      ggplot2::labs(title = "Confusion matrix", x = "Reference class", y = "Predicted class") +
      ggplot2::theme_minimal()
  }
  if (type %in% c("both", "metrics") && !is.null(data$per_class_metrics)) {
    per_class <- data$per_class_metrics
    long <- data.frame(
      class = rep(per_class$class, 3),
      metric = rep(c("precision", "recall", "f1"), each = nrow(per_class)),
      value = c(per_class$precision, per_class$recall, per_class$f1),
      stringsAsFactors = FALSE)
    plots$metrics <- ggplot2::ggplot(long, columns_aes(x = "class", y = "value", fill = "metric")) +
      ggplot2::geom_col(position = "dodge") +
      ggplot2::scale_y_continuous(limits = c(0, 1)) +
      ggplot2::labs(title = "Per-class metrics", x = "Class", y = "Value", fill = "Metric") +
      ggplot2::theme_minimal()
  }
  if (length(plots) == 0) {
    pybridge_abort("invalid_input", sprintf(
      "Nothing to plot for type = \"%s\": compute the confusion matrix or precision/recall/F1.",
      type))
  }
  if (length(plots) == 1) plots[[1]] else plots
}

# ggplot2 aesthetics from column names, without non-standard evaluation in this package
columns_aes <- function(...) {
  do.call(ggplot2::aes, lapply(list(...), as.name))
}
