dyn_data <- function() {
  set.seed(5)
  do.call(rbind, lapply(1:4, function(i) {
    y <- simulate_dlo(-0.2, -0.1, 0.5, n_steps = 100, n_series = 4)$y
    data.frame(id = i, happy = y[1, ] + y[2, ], joy = y[1, ] - 0.5 * y[2, ], sad = y[3, ],
               angry = y[3, ] + y[4, ])
  }))
}

test_that("dynEGA() equals pybridge's Python dynEGA on the same data", {
  skip_if_no_python()
  data <- dyn_data()
  result <- dynEGA(data, seed = 1, level = c("population", "individual"))
  expect_s3_class(result, "pybridge_dynEGA")
  expect_identical(names(result$population$wc),
                   paste0(c("happy", "joy", "sad", "angry"), ".DerivOrd1"))
  expect_identical(dimnames(result$population$network)[[1]], names(result$population$wc))
  expect_identical(names(result$individual), c("1", "2", "3", "4"))
  expect_true(all(c("id", "group") %in% names(result$derivatives)))

  python <- pybridge_api()$dynEGA(python_glue()$from_r(to_python(data)), seed = 1,
                                  level = list("population", "individual"))
  python_wc <- reticulate::py_to_r(python$population$wc$tolist())
  expect_identical(unname(result$population$wc), as.numeric(unlist(python_wc)))
  expect_identical(result$population$TEFI, reticulate::py_to_r(python$population$tefi))
  expect_output(print(result), "communities")
})

test_that("dynEGA() rejects what is not a data frame", {
  expect_error(dynEGA(matrix(1:4, 2)), class = "pybridge_invalid_input")
})
