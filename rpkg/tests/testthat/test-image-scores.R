labels <- c("happy", "sad face", "angry")
landmarks <- paste0("landmark_", rep(c("left_eye", "right_eye", "nose", "mouth_left", "mouth_right"),
                                     each = 2), "_", c("x", "y"))

test_that("image_scores() returns one row per image with the labels as columns", {
  skip_if_no_python()
  scores <- image_scores(face_image_path(), labels, local_model_path = tiny_clip_path())
  expect_s3_class(scores, "data.frame")
  expect_identical(names(scores), c("image", "face_found", "face_score", "face_x", "face_y",
                                    "face_w", "face_h", "reason", landmarks, labels))
  expect_identical(nrow(scores), 1L)
  expect_true(scores$face_found)
  expect_gt(scores$face_score, 0.9)
  expect_equal(sum(unlist(scores[labels])), 1, tolerance = 1e-6)
  expect_type(attr(scores, "provenance"), "list")
  expect_identical(attr(scores, "provenance")$face_detector$detector, "mtcnn")
})

test_that("image_scores() takes the detector and its threshold", {
  skip_if_no_python()
  haar <- image_scores(face_image_path(), labels, local_model_path = tiny_clip_path(),
                       detector = "haar")
  expect_identical(names(haar), c("image", "face_found", "face_score", "face_x", "face_y",
                                  "face_w", "face_h", "reason", labels))
  expect_true(haar$face_found)
  expect_true(is.na(haar$face_score))
  strict <- image_scores(face_image_path(), labels, local_model_path = tiny_clip_path(),
                         face_threshold = 1)
  expect_false(strict$face_found)
  expect_match(strict$reason, "face_threshold", fixed = TRUE)
  expect_error(image_scores(face_image_path(), labels, local_model_path = tiny_clip_path(),
                            face_threshold = 2),
               class = "pybridge_invalid_input")
  expect_error(image_scores(face_image_path(), labels, local_model_path = tiny_clip_path(),
                            detector = "dlib"),
               class = "pybridge_invalid_input")
})

test_that("image_scores() equals the Python API on the same inputs", {
  skip_if_no_python()
  images <- c(face_image_path(), blank_image_path())
  scores <- image_scores(images, labels, local_model_path = tiny_clip_path())
  reference <- python_scores("image_scores", as.list(images), as.list(labels),
                             local_model_path = tiny_clip_path())
  expect_identical(scores, reference)
  # the image without a face keeps its row, with NaN scores and a reason
  expect_identical(scores$face_found, c(TRUE, FALSE))
  expect_true(all(is.na(unlist(scores[2, labels]))))
  expect_false(is.na(scores$reason[2]))
})

test_that("a single label stays a list of labels and keeps its text as column name", {
  skip_if_no_python()
  err <- tryCatch(image_scores(face_image_path(), "happy", local_model_path = tiny_clip_path()),
                  error = identity)
  # one label is either scored or rejected by the Python side with a typed error
  if (inherits(err, "error")) {
    expect_s3_class(err, "pybridge_invalid_labels")
  } else {
    expect_identical(names(err)[ncol(err)], "happy")
  }
})

test_that("image_scores() errors are typed R conditions", {
  skip_if_no_python()
  # an unreadable image among others keeps its row, with the cause, and warns
  missing_file <- file.path(tempdir(), "no-such-image.png")
  expect_warning(
    scores <- image_scores(c(face_image_path(), missing_file), labels,
                           local_model_path = tiny_clip_path()),
    "could not be read", class = "pybridge_warning")
  expect_identical(scores$face_found, c(TRUE, FALSE))
  expect_match(scores$reason[2], "no-such-image.png", fixed = TRUE)
  expect_true(all(is.na(unlist(scores[2, labels]))))
  expect_error(image_scores(face_image_path(), labels, face_selection = "biggest",
                            local_model_path = tiny_clip_path()),
               class = "pybridge_invalid_input")
  expect_error(image_scores(face_image_path(), c("happy", "happy"),
                            local_model_path = tiny_clip_path()),
               class = "pybridge_invalid_labels")
  expect_error(image_scores(face_image_path(), labels, model = "no-such-model"),
               class = "pybridge_unknown_model")
})

test_that("image_scores_dir() lists files by regular expression and adds image_id", {
  skip_if_no_python()
  folder <- file.path(tempdir(), "faces-dir")
  dir.create(folder, showWarnings = FALSE)
  file.copy(face_image_path(), file.path(folder, "b_face.PNG"), overwrite = TRUE)
  file.copy(blank_image_path(), file.path(folder, "a_blank.png"), overwrite = TRUE)
  writeLines("not an image", file.path(folder, "notes.txt"))
  scores <- image_scores_dir(folder, labels, local_model_path = tiny_clip_path())
  expect_identical(scores$image_id, c("a_blank.png", "b_face.PNG"))
  expect_identical(names(scores)[1:2], c("image_id", "image"))
  expect_identical(scores$face_found, c(FALSE, TRUE))
  direct <- image_scores(file.path(folder, c("a_blank.png", "b_face.PNG")), labels,
                         local_model_path = tiny_clip_path())
  expect_identical(scores[-1], direct, ignore_attr = TRUE)

  empty <- file.path(tempdir(), "empty-dir")
  dir.create(empty, showWarnings = FALSE)
  expect_warning(none <- image_scores_dir(empty, labels), class = "pybridge_warning")
  expect_identical(nrow(none), 0L)
  expect_identical(names(none), c("image_id", "image", labels))
})

test_that("output = \"transforEmotion\" gives only the label columns", {
  skip_if_no_python()
  images <- c(face_image_path(), blank_image_path())
  tidy <- image_scores(images, labels, local_model_path = tiny_clip_path())
  shaped <- image_scores(images, labels, local_model_path = tiny_clip_path(),
                         output = "transforEmotion")
  expect_identical(names(shaped), labels)
  expect_equal(shaped[, 1], tidy[[labels[1]]])
  expect_true(all(is.na(shaped[2, ])))
  old <- options(pybridge.output = "transforEmotion")
  folder <- dirname(face_image_path())
  by_folder <- tryCatch(image_scores_dir(folder, labels, pattern = "^(astronaut|blank)\\.png$",
                                         local_model_path = tiny_clip_path()),
                        finally = options(old))
  expect_identical(names(by_folder), c("image_id", labels))
  expect_identical(by_folder$image_id, c("astronaut.png", "blank.png"))
  expect_error(image_scores(images, labels, output = "wide"), class = "pybridge_invalid_input")
})
