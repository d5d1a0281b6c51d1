#' One step of the damped linear oscillator (transforEmotion's DLO dynamics)
#'
#' The DLO's equation of motion for a latent emotion score \eqn{x}:
#' \eqn{x'' = \eta x + \zeta x' + q}. Returns the velocity and the acceleration,
#' which transforEmotion's \code{simulate_video()} integrates with Euler steps.
#'
#' @param x Current level of the latent score.
#' @param dxdt Current velocity.
#' @param q Random shock of this step.
#' @param dt Step length (not used by the equation; kept for transforEmotion's
#'   signature).
#' @param eta Frequency parameter (negative for oscillation around the level 0).
#' @param zeta Damping parameter (negative for damping).
#'
#' @return A numeric vector: \code{dxdt} and \code{eta * x + zeta * dxdt + q}
#'   (vectorised over equal-length inputs: the velocities, then the accelerations).
#'   Equal to \code{pybridge.dlo_dynamics} in Python.
#' @seealso \code{\link{simulate_video}}, \code{\link{simulate_dlo}}
#' @export
#' @examples
#' dlo_dynamics(x = 0.25, dxdt = 2, q = 0.05, dt = 0.01, eta = 0.5, zeta = 0.5)
dlo_dynamics <- function(x, dxdt, q, dt, eta, zeta) {
  values <- list(x = x, dxdt = dxdt, q = q, dt = dt, eta = eta, zeta = zeta)
  bad <- names(values)[!vapply(values, function(v) is.numeric(v) && length(v) > 0, logical(1))]
  if (length(bad) > 0) {
    pybridge_abort("invalid_input", sprintf("%s must be numeric (not empty).",
                                            paste0("`", bad, "`", collapse = ", ")))
  }
  c(dxdt, eta * x + zeta * dxdt + q)
}

#' Plot simulated emotion scores
#'
#' Draws the output of \code{\link{simulate_video}} with base graphics: the three
#' latent scores (neutral, negative, positive), or the observed scores of the
#' positive or of the negative emotions.
#'
#' @param df A data frame from \code{\link{simulate_video}} (columns \code{Nt},
#'   \code{dNt}, \code{Ng}, \code{dNg}, \code{Ps}, \code{dPs}, \code{N1} ...
#'   \code{Nk}, \code{P1} ... \code{Pk}).
#' @param mode \code{"latent"} (default), \code{"positive"} or \code{"negative"}.
#' @param title Plot title; a blank string (default) gives one that names the mode.
#'
#' @return \code{df}, invisibly.
#'
#' @section Differences from transforEmotion:
#' An unknown \code{mode} is an error (transforEmotion drew the negative emotions),
#' \code{title} is used in every mode, and the observed scores are not cut at 1.
#'
#' @export
#' @examples
#' \donttest{
#' if (reticulate::py_module_available("pybridge")) {
#'   video <- simulate_video(dt = 0.01, num_steps = 50, num_observables = 4,
#'                           eta_n = 0.5, zeta_n = 0.5, eta = 0.5, zeta = 0.5,
#'                           sigma_q = 0.1, sd_observable = 0.1, loadings = 0.8,
#'                           window_size = 10)
#'   plot_sim_emotions(video)
#'   plot_sim_emotions(video, mode = "positive")
#' }
#' }
plot_sim_emotions <- function(df, mode = "latent", title = " ") {
  if (!is.character(mode) || length(mode) != 1 || !mode %in% c("latent", "positive", "negative")) {
    pybridge_abort("invalid_input", "`mode` must be \"latent\", \"positive\" or \"negative\".")
  }
  if (!is.character(title) || length(title) != 1) {
    pybridge_abort("invalid_input", "`title` must be a single string.")
  }
  if (!is.data.frame(df) || nrow(df) == 0) {
    pybridge_abort("invalid_input", "`df` must be a non-empty data frame from simulate_video().")
  }
  if (mode == "latent") {
    columns <- c(Neutral = "Nt", Negative = "Ng", Positive = "Ps")
    colours <- c("#7C878E", "#C0392B", "#2952A3")
    default_title <- "Latent emotion scores"
  } else {
    prefix <- if (mode == "positive") "P" else "N"
    columns <- grep(sprintf("^%s[0-9]+$", prefix), names(df), value = TRUE)
    names(columns) <- columns
    palette <- if (mode == "positive") c("#D6E4F5", "#2952A3") else c("#F5C6C0", "#C0392B")
    colours <- grDevices::colorRampPalette(palette)(max(length(columns), 2))[seq_along(columns)]
    default_title <- sprintf("Observed %s emotion scores", mode)
  }
  missing_columns <- setdiff(columns, names(df))
  if (length(columns) == 0 || length(missing_columns) > 0) {
    pybridge_abort("invalid_input", sprintf(
      "`df` lacks the %s columns (%s); pass the data frame returned by simulate_video().",
      mode, if (length(columns) == 0) paste0(prefix, "1, ...") else
        paste(missing_columns, collapse = ", ")))
  }
  values <- as.matrix(df[unname(columns)])
  upper <- max(1, values, na.rm = TRUE)
  graphics::matplot(seq_len(nrow(values)), values, type = "l", lty = 1, col = colours,
                    ylim = c(0, upper), xlab = "Frame", ylab = "Score",
                    main = if (nzchar(trimws(title))) title else default_title)
  graphics::legend("topleft", legend = names(columns), col = colours, lty = 1, bty = "n")
  invisible(df)
}
