# FindingEmo helpers on the synthetic folders of tests/fixtures/findingemo.

findingemo_dir <- function(layout) file.path(reference_fixtures(), "findingemo", layout)

test_that("map_to_emo8() maps Plutchik's wheel to the basic emotions", {
  skip_if_no_python()
  expect_identical(map_to_emo8(c("Serenity", "Rage", "Interest", "Admiration")),
                   c("joy", "anger", "anticipation", "trust"))
  expect_warning(out <- map_to_emo8(c("Joy", "Love", NA)), "not on Plutchik's wheel",
                 class = "pybridge_warning")
  expect_identical(out, c("joy", NA, NA))
  expect_identical(map_to_emo8(character(0)), character(0))
  expect_error(map_to_emo8(1:3), class = "pybridge_invalid_input")
})

test_that("annotations load from both layouts and the quality report counts files", {
  skip_if_no_python()
  flat <- load_findingemo_annotations(findingemo_dir("flat"))
  expect_identical(dim(flat), c(6L, 7L))
  expect_identical(flat$emotion[1:3], c("Joy", "Serenity", "Rage"))
  standard <- load_findingemo_annotations(findingemo_dir("standard"), output_format = "list")
  expect_identical(standard$annotations, flat)
  expect_identical(standard$urls$img_0002, "https://images.example.org/img_0002.jpg")
  expect_output(report <- check_findingemo_quality(findingemo_dir("flat"), check_images = TRUE),
                "images: 4 \\(66.7% of the URLs\\)")
  expect_identical(report$image_check$readable, 3L)
  expect_error(load_findingemo_annotations(file.path(tempdir(), "no-such-folder")),
               "does not exist", class = "pybridge_invalid_input")
  expect_error(check_findingemo_quality(tempdir()), "holds no FindingEmo data",
               class = "pybridge_invalid_input")
})

test_that("prepare_findingemo_evaluation() joins and feeds evaluate_emotions()", {
  skip_if_no_python()
  annotations <- load_findingemo_annotations(findingemo_dir("flat"))
  annotations$emo8_label <- suppressWarnings(map_to_emo8(annotations$emotion))
  predictions <- data.frame(image_id = c("img_0003", "img_0001", "img_0002", "img_0004"),
                            predicted_emotion = c("anger", "joy", "sadness", NA))
  expect_warning(table <- prepare_findingemo_evaluation(annotations, predictions,
                                                        truth_col = "emo8_label"),
                 "dropped 1 of 4", class = "pybridge_warning")
  expect_identical(names(table), c("id", "truth", "valence", "arousal", "pred"))
  expect_identical(table$id, c("img_0001", "img_0002", "img_0003"))
  result <- evaluate_emotions(table, metrics = "accuracy")
  expect_equal(result$accuracy, 2 / 3)
  expect_error(prepare_findingemo_evaluation(annotations, predictions),
               "emotion_label", class = "pybridge_invalid_input")
  expect_error(prepare_findingemo_evaluation(annotations, predictions[0, ], truth_col = "emotion"),
               "no 'image_id' value", class = "pybridge_invalid_input")
  expect_error(prepare_findingemo_evaluation(list(), predictions), class = "pybridge_invalid_input")
})

test_that("downloading offline is a typed error", {
  skip_if_no_python()
  expect_error(download_findingemo_data(file.path(tempdir(), "fe"), max_images = 5),
               "offline", class = "pybridge_download")
  expect_error(download_findingemo_data(file.path(tempdir(), "fe"), max_images = 0),
               class = "pybridge_invalid_input")
})
