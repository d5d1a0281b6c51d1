test_that("precision reaches Python through ... and is recorded in the provenance", {
  skip_if_no_python()
  labels <- c("happy", "sad")
  scores <- image_scores(face_image_path(), labels, local_model_path = tiny_clip_path(),
                         precision = "fp32")
  expect_identical(attr(scores, "provenance")$precision, "fp32")
  expect_error(image_scores(face_image_path(), labels, local_model_path = tiny_clip_path(),
                            precision = "int4"),
               "unknown precision 'int4'", class = "pybridge_invalid_input")
})
