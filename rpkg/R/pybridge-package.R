#' pybridge: facial emotion scores, emotion time series and their dynamics
#'
#' The R interface to the 'pybridge' Python package, on reticulate. It keeps the
#' function names, arguments and defaults of transforEmotion, so its scripts run
#' after replacing \code{library(transforEmotion)} with \code{library(pybridge)}.
#'
#' @section Getting started:
#' Run \code{\link{setup_modules}()} once to install the Python package. Python
#' starts on the first call that needs it, in one long-lived process per R session,
#' so models stay loaded between calls.
#'
#' @section Errors:
#' Errors raised by the Python side become R conditions with the same message and
#' the classes \code{pybridge_<kind>} (for the error and each of its more general
#' kinds), \code{"pybridge_error"}, \code{"error"} and \code{"condition"}, e.g.
#' \code{c("pybridge_invalid_labels", "pybridge_invalid_input", "pybridge_error",
#' "error", "condition")}. Select them with \code{tryCatch()}:
#' \preformatted{
#' tryCatch(image_scores("missing.jpg", c("happy", "sad")),
#'          pybridge_unreadable_image = function(e) NULL)
#' }
#' The kinds are \code{invalid_input}, \code{invalid_labels},
#' \code{series_too_short}, \code{unstable_parameters}, \code{unsupported_option},
#' \code{unreadable_image},
#' \code{unreadable_video}, \code{model_error}, \code{unknown_model},
#' \code{model_not_available}, \code{model_load}, \code{quantization_unsupported},
#' \code{precision_unsupported},
#' \code{model_mismatch}, \code{not_fitted}, \code{missing_dependency},
#' \code{download}, \code{service_unavailable} and \code{estimation}. Warnings from Python become R warnings of
#' class \code{pybridge_warning}. Any other Python exception (a bug) is signalled
#' with class \code{pybridge_python_exception} and its Python type in the message.
#'
#' @section Options:
#' \describe{
#'   \item{\code{pybridge.python_package}}{What \code{setup_modules()} installs
#'     instead of the bundled wheel (a clone's folder, a wheel file or
#'     \code{"pybridge-emotion"} with a version).}
#'   \item{\code{pybridge.envname}}{Name of the environment made by
#'     \code{setup_modules()}, looked up when Python starts (default "pybridge").}
#' }
#'
#' @keywords internal
"_PACKAGE"
