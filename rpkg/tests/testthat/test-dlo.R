fixture_table <- function(table) {
  rows <- lapply(table$data, function(row) vapply(row, function(v) if (is.null(v)) NaN else v, 0))
  values <- do.call(rbind, rows)
  colnames(values) <- unlist(table$colnames)
  values
}

transforemotion_cases <- function() {
  path <- file.path(reference_fixtures(), "transforemotion", "simulate_video.json")
  jsonlite::fromJSON(path, simplifyVector = FALSE)$cases
}

test_that("simulate_video() after set.seed() reproduces transforEmotion cell for cell", {
  skip_if_no_python()
  for (case in transforemotion_cases()) {
    if (!is.null(case$error)) next
    set.seed(case$seed)
    video <- do.call(simulate_video, case$args)
    expected <- fixture_table(case$result)
    expect_s3_class(video, "data.frame")
    expect_identical(names(video), colnames(expected), label = case$name)
    expect_identical(unname(as.matrix(video)), unname(expected), label = case$name)

    # and it used exactly transforEmotion's draws: the generator ends in the same state
    after <- .Random.seed
    set.seed(case$seed)
    for (draw in case$draws) {
      if (draw$fn == "rnorm") stats::rnorm(draw$n) else stats::runif(draw$n)
    }
    expect_identical(after, .Random.seed, label = case$name)
  }
})

test_that("simulate_video() raises transforEmotion's error cases as pybridge_invalid_input", {
  skip_if_no_python()
  for (case in transforemotion_cases()) {
    if (is.null(case$error)) next
    set.seed(case$seed)
    expect_error(do.call(simulate_video, case$args), class = "pybridge_invalid_input",
                 label = case$name)
  }
})

test_that("simulate_video() with an integer seed uses NumPy and is reproducible", {
  skip_if_no_python()
  arguments <- list(dt = 0.1, num_steps = 40, num_observables = 2, eta_n = -0.5,
                    zeta_n = -0.5, eta = -0.5, zeta = -0.5, sigma_q = 0.5,
                    sd_observable = 0.05, loadings = 0.8, window_size = 3, seed = 7L)
  first <- do.call(simulate_video, arguments)
  expect_identical(dim(first), c(40L, 10L))
  expect_identical(first, do.call(simulate_video, arguments))
})

test_that("simulate_dlo() returns matrices, the long table, and follows set.seed()", {
  skip_if_no_python()
  set.seed(3)
  sim <- simulate_dlo(eta = -0.1, zeta = -0.05, sigma_q = 0.3, n_steps = 50, n_series = 3,
                      meas_sd = 0.1)
  expect_s3_class(sim, "pybridge_dlo_simulation")
  expect_identical(dim(sim$x), c(3L, 50L))
  expect_identical(dim(sim$y), c(3L, 50L))
  long <- as.data.frame(sim)
  expect_identical(names(long), c("series", "step", "time", "x", "v", "y", "eta", "zeta",
                                  "sigma_q", "meas_sd"))
  expect_identical(long$y[long$series == 1], sim$y[2, ])
  set.seed(3)
  again <- simulate_dlo(eta = -0.1, zeta = -0.05, sigma_q = 0.3, n_steps = 50, n_series = 3,
                        meas_sd = 0.1)
  expect_identical(again$y, sim$y)
  expect_output(print(sim), "3 series of 50 steps")
})

test_that("simulate_dlo() rejects unstable parameters and bad sizes with typed errors", {
  skip_if_no_python()
  expect_error(simulate_dlo(0.1, -0.1, 0.3, 10), "eta < 0",
               class = "pybridge_unstable_parameters")
  expect_error(simulate_dlo(-0.1, 0, 0.3, 10), class = "pybridge_unstable_parameters")
  expect_error(simulate_dlo(-0.1, -0.1, 0.3, 10, dt = 0), class = "pybridge_invalid_input")
  expect_error(simulate_dlo(-0.1, -0.1, 0.3, 10.5), class = "pybridge_invalid_input")
})

test_that("estimate_dlo() accepts vectors, lists, matrices and score tables", {
  skip_if_no_python()
  set.seed(4)
  sim <- simulate_dlo(eta = -0.2, zeta = -0.2, sigma_q = 0.5, n_steps = 200, n_series = 2)
  from_matrix <- estimate_dlo(sim$y, method = "glla")
  expect_identical(nrow(from_matrix), 2L)
  expect_true(all(c("series", "eta", "zeta", "sigma_q") %in% names(from_matrix)))
  from_list <- estimate_dlo(list(sim$y[1, ], sim$y[2, ]), method = "glla")
  expect_identical(from_list, from_matrix)
  from_vector <- estimate_dlo(sim$y[1, ], method = "glla")
  expect_identical(from_vector[, c("eta", "zeta", "sigma_q")],
                   from_matrix[1, c("eta", "zeta", "sigma_q")], ignore_attr = TRUE)

  scores <- data.frame(id = rep(c(1, 2), each = 200), frame = rep(0:199, 2),
                       happy = c(sim$y[1, ], sim$y[2, ]), `very sad` = c(sim$y[2, ], sim$y[1, ]),
                       check.names = FALSE)
  by_id <- estimate_dlo(scores, method = "glla")
  expect_identical(by_id$id, c(1, 1, 2, 2))
  expect_identical(by_id$label, c("happy", "very sad", "happy", "very sad"))
  # rows: id 1 happy (y1), id 1 very sad (y2), id 2 happy (y2), id 2 very sad (y1)
  expect_identical(by_id$eta[c(1, 2)], from_matrix$eta)
  expect_identical(by_id$eta[c(4, 3)], from_matrix$eta)
})

test_that("estimate_dlo() signals short series and bad methods", {
  skip_if_no_python()
  expect_error(estimate_dlo(rnorm(10)), class = "pybridge_series_too_short")
  expect_error(estimate_dlo(rnorm(50), method = "bayes"), "should be one of")
})
