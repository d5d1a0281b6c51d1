test_that("Python errors become R conditions with the pybridge classes and message", {
  skip_if_no_python()
  dlo <- reticulate::import("pybridge.dlo.simulate")
  python_message <- tryCatch(dlo$simulate_dlo(0.1, -0.05, 0.3, n_steps = 5L),
                             error = function(e) reticulate::py_last_error()$value)
  err <- tryCatch(simulate_dlo(eta = 0.1, zeta = -0.05, sigma_q = 0.3, n_steps = 5),
                  error = identity)
  expect_identical(class(err), c("pybridge_unstable_parameters", "pybridge_invalid_input",
                                 "pybridge_error", "error", "condition"))
  expect_identical(conditionMessage(err), python_message)
  expect_identical(err$python_type, "UnstableParametersError")
  # selectable by tryCatch at any level
  caught <- tryCatch(simulate_dlo(0.1, -0.05, 0.3, 5), pybridge_invalid_input = function(e) "input")
  expect_identical(caught, "input")
})

test_that("other Python exceptions are errors of class pybridge_python_exception", {
  skip_if_no_python()
  err <- tryCatch(py_call("no_such_function"), error = identity)
  expect_s3_class(err, "pybridge_python_exception")
  expect_false(inherits(err, "pybridge_error"))
  expect_match(conditionMessage(err), "^AttributeError: .*no_such_function")
})

test_that("Python warnings become R warnings of class pybridge_warning", {
  skip_if_no_python()
  warnings_module <- reticulate::import("warnings", convert = FALSE)
  expect_warning(py_call("warn", "fewer frames than asked", .object = warnings_module),
                 "fewer frames than asked", class = "pybridge_warning")
})

test_that("data frames, matrices and NA cross to Python and back exactly", {
  skip_if_no_python()
  glue <- python_glue()
  frame <- data.frame(`happy face` = c(0.1, NA, 1 / 3), reason = c(NA, "no face", "x"),
                      found = c(TRUE, FALSE, NA), n = c(1L, NA, 3L), check.names = FALSE)
  pandas_frame <- glue$from_r(to_python(frame))
  expect_identical(reticulate::py_to_r(pandas_frame$columns$tolist()), names(frame))
  back <- from_python(pandas_frame)
  expect_identical(names(back), names(frame))
  expect_identical(back$`happy face`, c(0.1, NaN, 1 / 3))
  expect_identical(back$reason, frame$reason)
  expect_identical(back$n, c(1, NaN, 3))

  m <- matrix(c(1, 2, 3, 4, 5, NA), nrow = 2)
  array <- glue$from_r(to_python(m))
  expect_identical(reticulate::py_to_r(array$shape), list(2L, 3L))
  expect_identical(from_python(array), replace(m, is.na(m), NaN))
})

test_that("R-side argument checks raise pybridge conditions", {
  expect_error(image_scores("a.png", 1:3), class = "pybridge_invalid_labels")
  expect_error(image_scores("a.png", c("happy", NA)), class = "pybridge_invalid_input")
  expect_error(video_scores("a.mp4", c("a", "b"), nframes = 2.5), "whole number",
               class = "pybridge_invalid_input")
  expect_error(video_scores("a.mp4", c("a", "b"), uniform = NA), class = "pybridge_invalid_input")
  expect_error(image_scores_dir(file.path(tempdir(), "nope"), c("a", "b")),
               "Folder not found", class = "pybridge_invalid_input")
})
