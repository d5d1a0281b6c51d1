#' Simulate emotion scores of a "video" as transforEmotion does
#'
#' A port of transforEmotion's \code{simulate_video()}: three latent series
#' (neutral, negative, positive) follow its step rule, are clamped at 0 and
#' renormalised to sum to 1, and \code{num_observables} noisy, smoothed observed
#' scores are generated per emotional factor, optionally with "emphasis" spikes.
#'
#' With \code{seed = NULL} (default) every random number is drawn from R's own
#' generator, in transforEmotion's order, so \code{set.seed(s); simulate_video(...)}
#' gives the same numbers as transforEmotion's \code{simulate_video()} after the same
#' \code{set.seed(s)}, and leaves the generator in the same state. With an integer
#' \code{seed}, NumPy's generator is used instead (reproducible, but different
#' numbers).
#'
#' This reproduces transforEmotion; it is not a damped linear oscillator: its step
#' replaces the velocity by acceleration times \code{dt} instead of integrating it,
#' so \code{eta} and \code{zeta} are not DLO parameters and
#' \code{\link{estimate_dlo}} does not recover them. Use \code{\link{simulate_dlo}}
#' for DLO data.
#'
#' @param dt Step length.
#' @param num_steps Number of frames; at least \code{2 * window_size - 1}.
#' @param num_observables Observed scores per factor (negative, positive); at least 2.
#' @param eta_n,zeta_n Coefficients of the neutral series.
#' @param eta,zeta Coefficients of the negative and positive series.
#' @param sigma_q Standard deviation of the shocks.
#' @param sd_observable Measurement-error variance (transforEmotion's name says
#'   standard deviation; its code uses the value as a variance).
#' @param loadings Loading before perturbation and rescaling (the help page of
#'   transforEmotion uses 0.8).
#' @param window_size Moving-average window of the observed scores.
#' @param emph Add spikes to the dominant emotion (default \code{FALSE}).
#' @param emph.dur,emph.prob Length (frames) and probability of a spike episode.
#' @param seed \code{NULL} (R's generator, see above) or an integer seed for NumPy.
#'
#' @return A \code{data.frame} with \code{num_steps} rows and columns \code{Nt},
#'   \code{dNt}, \code{Ng}, \code{dNg}, \code{Ps}, \code{dPs} (neutral, negative and
#'   positive levels and velocities), then \code{N1}..\code{Nk} and
#'   \code{P1}..\code{Pk}.
#'
#' @section Differences from transforEmotion:
#' Same numbers, same errors. Errors are R conditions of class
#' \code{pybridge_invalid_input}: a series shorter than the smoothing window needs
#' (transforEmotion: "only 0's may be mixed with negative subscripts"), and emphasis
#' on a simulation whose latent series became NaN (transforEmotion: "missing values
#' and NaN's not allowed if 'na.rm' is FALSE"). Recent transforEmotion versions name
#' the latent columns \code{Neu dNeu N dN P dP}; the version reproduced here (0.1.7,
#' whose simulator last changed in 2024) uses \code{Nt dNt Ng dNg Ps dPs}.
#'
#' @seealso \code{\link{simulate_dlo}}
#' @export
#' @examples
#' if (reticulate::py_module_available("pybridge")) {
#'   set.seed(1)
#'   video <- simulate_video(dt = 0.01, num_steps = 50, num_observables = 4,
#'                           eta_n = 0.5, zeta_n = 0.5, eta = 0.5, zeta = 0.5,
#'                           sigma_q = 0.1, sd_observable = 0.1, loadings = 0.8,
#'                           window_size = 10)
#'   head(video)
#' }
simulate_video <- function(dt, num_steps, num_observables, eta_n, zeta_n, eta, zeta,
                           sigma_q, sd_observable, loadings, window_size, emph = FALSE,
                           emph.dur = 10, emph.prob = 0.5, seed = NULL) {
  check_flag(emph, "emph")
  draws <- if (is.null(seed)) r_draws() else NULL
  video <- py_call("simulate_video", dt = dt, num_steps = as_count(num_steps),
                   num_observables = as_count(num_observables), eta_n = eta_n,
                   zeta_n = zeta_n, eta = eta, zeta = zeta, sigma_q = sigma_q,
                   sd_observable = sd_observable, loadings = loadings,
                   window_size = as_count(window_size), emph = emph,
                   emph_dur = as_count(emph.dur), emph_prob = emph.prob,
                   seed = as_count(seed), draws = draws)
  from_python(video)
}

# A Python draw source that takes every standard variate from R's generator, in
# the order the simulator asks for them.
r_draws <- function() {
  # the glue module is imported without conversion, so `n` arrives as a Python int
  count <- function(n) as.integer(reticulate::py_to_r(n))
  python_glue()$CallbackDraws(
    function(n, role) stats::rnorm(count(n)),
    function(n, role) stats::runif(count(n))
  )
}

#' Simulate damped linear oscillators exactly
#'
#' Simulates \code{n_series} series of the damped linear oscillator (DLO)
#' \deqn{dx = v\,dt, \quad dv = (\eta x + \zeta v)\,dt + \sigma_q\,dW}{dx = v dt,
#' dv = (eta x + zeta v) dt + sigma_q dW}
#' sampled every \code{dt} with the exact transition of this linear stochastic
#' differential equation (no step-size error), observed as
#' \eqn{y = x + } \code{meas_sd} \eqn{\times}{*} standard normal noise.
#'
#' @param eta Frequency parameter, < 0 (\eqn{\eta = -\omega_0^2}{eta = -omega0^2});
#'   one value or one per series.
#' @param zeta Damping parameter, < 0; one value or one per series.
#' @param sigma_q Noise intensity, >= 0; one value or one per series.
#' @param n_steps Number of time points per series.
#' @param dt Time between samples (> 0); the parameters are per unit of this time.
#' @param n_series Number of independent series.
#' @param meas_sd Standard deviation of the measurement noise.
#' @param x0,v0 Initial level and velocity; \code{NULL} draws them from the
#'   stationary distribution.
#' @param seed Integer seed. \code{NULL} (default) draws one from R's generator, so
#'   \code{set.seed()} makes the simulation reproducible.
#'
#' @return An object of class \code{pybridge_dlo_simulation}: a list with matrices
#'   \code{x}, \code{v} (latent level and velocity) and \code{y} (observed), each
#'   \code{n_series} by \code{n_steps}; the per-series parameters \code{eta},
#'   \code{zeta}, \code{sigma_q}, \code{meas_sd}; \code{dt}; and \code{data}, the same
#'   in long form (one row per series and time point; \code{series} and \code{step}
#'   count from 0, as in Python). \code{as.data.frame()} returns \code{data}.
#'
#' @section Errors:
#' \code{eta >= 0} or \code{zeta >= 0} (an unstable oscillator) raise
#' \code{pybridge_unstable_parameters}; \code{dt <= 0} or a non-integer
#' \code{n_steps} raise \code{pybridge_invalid_input}.
#'
#' @seealso \code{\link{estimate_dlo}}, \code{\link{simulate_video}}
#' @export
#' @examples
#' if (reticulate::py_module_available("pybridge")) {
#'   set.seed(1)
#'   sim <- simulate_dlo(eta = -0.1, zeta = -0.05, sigma_q = 0.3, n_steps = 200,
#'                       n_series = 3)
#'   dim(sim$y)
#'   head(as.data.frame(sim))
#' }
simulate_dlo <- function(eta, zeta, sigma_q, n_steps, dt = 1, n_series = 1, meas_sd = 0,
                         x0 = NULL, v0 = NULL, seed = NULL) {
  if (is.null(seed)) seed <- sample.int(.Machine$integer.max, 1L)
  simulation <- py_call("simulate_dlo", eta = eta, zeta = zeta, sigma_q = sigma_q,
                        n_steps = as_count(n_steps), dt = dt,
                        n_series = as_count(n_series), meas_sd = meas_sd, x0 = x0, v0 = v0,
                        seed = as_count(seed))
  fields <- from_python(simulation$to_dict())
  fields[c("x", "v", "y")] <- lapply(fields[c("x", "v", "y")], function(rows) {
    matrix(unlist(rows), nrow = length(rows), byrow = TRUE)
  })
  fields$seed <- seed
  fields$data <- from_python(simulation$to_frame())
  structure(fields, class = "pybridge_dlo_simulation")
}

#' @export
as.data.frame.pybridge_dlo_simulation <- function(x, ...) x$data

#' @export
print.pybridge_dlo_simulation <- function(x, ...) {
  cat(sprintf("DLO simulation: %d series of %d steps (dt = %g)\n", nrow(x$x), ncol(x$x),
              x$dt))
  shown <- function(v) paste(format(utils::head(v, 5)), collapse = " ")
  cat("  eta:", shown(x$eta), "\n  zeta:", shown(x$zeta), "\n  sigma_q:",
      shown(x$sigma_q), "\n")
  invisible(x)
}

#' Estimate damped linear oscillator parameters
#'
#' Fits the damped linear oscillator (see \code{\link{simulate_dlo}}) to each series
#' and returns \eqn{\eta}{eta} (frequency), \eqn{\zeta}{zeta} (damping) and
#' \eqn{\sigma_q}{sigma_q} (noise intensity) with intervals.
#'
#' @param series A numeric vector (one series); a list of numeric vectors (lengths
#'   may differ); a matrix with one series per row (trailing \code{NA} mark a
#'   shorter series); or a scores table such as \code{\link{video_scores}} returns,
#'   fitted once per label column and video. Interior \code{NA} (frames without a
#'   face) are missing observations. A table's \code{id} column (as
#'   \code{EGAnet::dynEGA()} uses) identifies the videos or persons.
#' @param dt Time between observations; the estimates are per unit of this time.
#'   \code{NULL} with a scores table uses the median spacing of \code{time_s}
#'   (estimates per second).
#' @param method \code{"kalman"} (default): exact Gaussian maximum likelihood with a
#'   Kalman filter, standard errors, measurement-noise sd and a convergence flag;
#'   \code{"glla"}: GLLA derivatives and least squares (a reference: its damping
#'   estimate is biased towards 0 for stationary series); \code{"neural"}: the
#'   network shipped with pybridge, with 90\% intervals.
#' @param ... Further arguments for the Python function
#'   \code{pybridge.estimate_dlo}: \code{meas_sd} (fix the measurement-noise sd),
#'   \code{n_embed} (GLLA window), \code{level} (interval coverage), \code{labels}
#'   (score columns to fit), \code{on_error} (\code{"raise"} or \code{"nan"}).
#'
#' @return A \code{data.frame}, one row per series: identifying columns
#'   (\code{series}, counted from 0 as in Python; or \code{id}/\code{video} and
#'   \code{label} for a table), then \code{eta}, \code{zeta}, \code{sigma_q} and the
#'   method's extras (\code{_lo}/\code{_hi} interval bounds, \code{_se} standard
#'   errors, \code{meas_sd}, \code{loglik}, \code{converged}, \code{n_obs}, ...).
#'
#' @section Errors:
#' A series with fewer than 20 observations raises \code{pybridge_series_too_short};
#' a constant series \code{pybridge_invalid_input} (or a row of \code{NA} with
#' \code{on_error = "nan"}).
#'
#' @seealso \code{\link{simulate_dlo}}, \code{\link{video_scores}}
#' @export
#' @examples
#' if (reticulate::py_module_available("pybridge")) {
#'   set.seed(2)
#'   sim <- simulate_dlo(eta = -0.1, zeta = -0.1, sigma_q = 0.5, n_steps = 300,
#'                       n_series = 2)
#'   estimate_dlo(sim$y, method = "kalman")[, c("series", "eta", "zeta", "sigma_q")]
#' }
estimate_dlo <- function(series, dt = 1, method = c("kalman", "glla", "neural"), ...) {
  method <- match.arg(method)
  ids <- NULL
  if (is.data.frame(series) && "id" %in% names(series)) {
    if ("video" %in% names(series)) {
      series$id <- NULL
    } else {
      # Python groups by a text "video" column: pass the position of each id and give
      # the ids back with their own type (1, not "1.0")
      ids <- unique(series$id)
      series$video <- as.character(match(series$id, ids))
      series$id <- NULL
    }
  }
  if (is.list(series) && !is.data.frame(series)) series <- lapply(series, as.numeric)
  estimates <- from_python(py_call("estimate_dlo", series, dt = dt, method = method, ...))
  if (!is.null(ids) && "video" %in% names(estimates)) {
    estimates$video <- ids[as.integer(estimates$video)]
    names(estimates)[names(estimates) == "video"] <- "id"
  }
  estimates
}
