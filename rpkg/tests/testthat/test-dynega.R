dyn_data <- function() {
  set.seed(5)
  do.call(rbind, lapply(1:4, function(i) {
    y <- simulate_dlo(-0.2, -0.1, 0.5, n_steps = 100, n_series = 4)$y
    data.frame(happy = y[1, ] + y[2, ], joy = y[1, ] - 0.5 * y[2, ], sad = y[3, ],
               angry = y[3, ] + y[4, ], person = i)
  }))
}

test_that("dynEGA() takes EGAnet's arguments and returns EGAnet's structure", {
  skip_if_no_python()
  data <- dyn_data()
  result <- suppressMessages(dynEGA(data, id = 5, n.embed = 5, tau = 1, delta = 1,
                                    level = c("population", "individual"),
                                    use.derivatives = 1, seed = 1, verbose = FALSE))
  expect_s3_class(result, "dynEGA")
  expect_named(result, c("Derivatives", "dynEGA"))
  expect_named(result$Derivatives, c("Estimates", "EstimatesDF"))
  expect_named(result$dynEGA, c("individual", "population"))
  expect_s3_class(result$dynEGA$population, "dynEGA.Population")
  expect_s3_class(result$dynEGA$individual, "dynEGA.Individual")
  population <- result$dynEGA$population
  expect_named(population, c("network", "wc", "n.dim", "correlation", "n",
                             "dim.variables", "TEFI"))
  expect_identical(names(population$wc),
                   paste0(c("happy", "joy", "sad", "angry"), ".DerivOrd1"))
  expect_identical(dimnames(population$network)[[1]], names(population$wc))
  expect_identical(names(result$dynEGA$individual), c("1", "2", "3", "4"))
  expect_identical(names(result$Derivatives$Estimates), c("1", "2", "3", "4"))
  expect_identical(dim(result$Derivatives$Estimates[["2"]]), c(96L, 4L))
  expect_identical(names(result$Derivatives$EstimatesDF)[5:6], c("id", "group"))

  # the same numbers as the Python API with the id column given by name
  python <- pybridge_api()$dynEGA(python_glue()$from_r(to_python(data)), id = "person",
                                  seed = 1, level = list("population", "individual"))
  python_wc <- reticulate::py_to_r(python$population$wc$tolist())
  expect_identical(unname(population$wc), as.numeric(unlist(python_wc)))
  expect_identical(population$TEFI, reticulate::py_to_r(python$population$tefi))

  # id by name and as one value per row give the same result
  by_name <- suppressMessages(dynEGA(data, id = "person", seed = 1, verbose = FALSE))
  by_vector <- suppressMessages(dynEGA(data[1:4], id = data$person, seed = 1,
                                       verbose = FALSE))
  expect_identical(by_name$dynEGA$population$network, population$network)
  expect_identical(by_vector$dynEGA$population$network, population$network)
  expect_output(print(result), "Number of Embeddings: 5")
  expect_output(summary(result$dynEGA$individual), "Number of cases: 4")
})

test_that("dynEGA() runs igraph's algorithms and passes algorithm.args", {
  skip_if_no_python()
  data <- dyn_data()
  for (algorithm in c("fast_greedy", "leading_eigen", "edge_betweenness")) {
    result <- suppressMessages(dynEGA(data, id = 5, algorithm = algorithm, seed = 1,
                                      verbose = FALSE))
    expect_identical(attr(result$dynEGA$population$network, "methods")$algorithm, algorithm)
  }
  steps <- suppressMessages(dynEGA(data, id = 5, seed = 1, verbose = FALSE,
                                   algorithm.args = list(steps = 3)))
  expect_s3_class(steps, "dynEGA")
  expect_warning(suppressMessages(dynEGA(data, id = 5, seed = 1, verbose = FALSE,
                                         no.such.option = 1)),
                 class = "pybridge_warning")
})

test_that("dynEGA() rejects bad input with typed errors", {
  skip_if_no_python()
  data <- dyn_data()
  expect_error(dynEGA("data.csv"), class = "pybridge_invalid_input")
  expect_error(dynEGA(data, id = 9), "`id = 9` is not a column number of the data \\(1 to 5\\)",
               class = "pybridge_invalid_input")
  expect_error(dynEGA(data, id = "subject"), "not a column of the data",
               class = "pybridge_invalid_input")
  expect_error(dynEGA(data, id = 5, model = "BGGM"), "model = \"glasso\"",
               class = "pybridge_unsupported_option")
  expect_error(dynEGA(data, id = 5, algorithm = "spinglass"),
               class = "pybridge_unsupported_option")
  expect_error(dynEGA(data, id = 5, algorithm = "nope"), "is not an option",
               class = "pybridge_invalid_input")
  expect_error(dynEGA(data, id = 5, n.embed.optimize = TRUE),
               class = "pybridge_unsupported_option")
})
