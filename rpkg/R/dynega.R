#' Dynamic Exploratory Graph Analysis of emotion time series
#'
#' pybridge's port of \code{EGAnet::dynEGA()} (EGAnet 2.5.0's numbers): GLLA
#' derivatives of each emotion series (per \code{id}), then EGA networks and
#' communities of the derivatives for the population, each group and/or each
#' individual. Runs without EGAnet; takes a \code{\link{video_scores}} table
#' directly.
#'
#' Variables are the label columns of a scores table: all columns except the id and
#' group columns and the metadata columns of \code{video_scores()} (\code{frame},
#' \code{time_s}, \code{video}, \code{face_id}, \code{track_id}, \code{face_found},
#' \code{face_score}, the face box, \code{reason}), unless \code{columns} names them.
#' The id column is \code{id} when there is one; else a table with several faces per
#' frame (\code{face_selection = "all"}) gets one id per video and face (e.g.
#' \code{"clip.mp4 track 2"}, each face on its video's full time axis); else
#' \code{video} (several videos scored together).
#'
#' @param data A data frame, rows in time order within each id.
#' @param id,group Name of the id and group columns (default: columns named
#'   \code{id} and \code{group}, if any).
#' @param n.embed Embedding dimension (>= 3).
#' @param tau Offset between window members.
#' @param delta Time between observations.
#' @param use.derivatives Derivative order analysed (0, 1 or 2).
#' @param level Any of \code{"population"}, \code{"group"}, \code{"individual"}.
#' @param model \code{"glasso"} or \code{"TMFG"}.
#' @param algorithm \code{"walktrap"}, \code{"louvain"} or \code{"leiden"}.
#' @param corr \code{"auto"}, \code{"pearson"} or \code{"spearman"}.
#' @param na.data \code{"pairwise"} or \code{"listwise"}.
#' @param na.derivative \code{"none"}, \code{"kalman"}, \code{"rowwise"} or
#'   \code{"skipover"}.
#' @param seed EGAnet's seed (jitter of constant series, Louvain runs); \code{NULL}
#'   is not reproducible, as in EGAnet.
#' @param columns Optional names of the variable columns.
#' @param ... Further EGA options for the Python function (\code{gamma},
#'   \code{lambda_min_ratio}, \code{nlambda}, \code{consensus_iter}, \code{zero_jitter},
#'   \code{uni_method}).
#'
#' @return A list of class \code{pybridge_dynEGA}: \code{derivatives} (data frame of
#'   the derivatives with \code{id} and \code{group}), \code{population} (an EGA:
#'   list with \code{network} and \code{correlation} matrices, \code{wc} named
#'   community vector, \code{n.dim}, \code{TEFI}, \code{unidimensional}, \code{n},
#'   \code{methods}; \code{NULL} when not requested), \code{group} and
#'   \code{individual} (named lists of EGAs), and \code{methods}.
#'
#' @seealso \code{\link{video_scores}}, \code{\link{estimate_dlo}}
#' @export
#' @examples
#' if (reticulate::py_module_available("pybridge")) {
#'   set.seed(5)
#'   sims <- lapply(1:4, function(i) simulate_dlo(-0.2, -0.1, 0.5, n_steps = 100,
#'                                                n_series = 4)$y)
#'   data <- do.call(rbind, lapply(1:4, function(i) {
#'     data.frame(id = i, happy = sims[[i]][1, ] + sims[[i]][2, ],
#'                joy = sims[[i]][1, ] - sims[[i]][2, ], sad = sims[[i]][3, ],
#'                angry = sims[[i]][3, ] + sims[[i]][4, ])
#'   }))
#'   result <- dynEGA(data, seed = 1)
#'   result$population$wc
#' }
dynEGA <- function(data, id = NULL, group = NULL, n.embed = 5, tau = 1, delta = 1,
                   use.derivatives = 1, level = "population", model = "glasso",
                   algorithm = "walktrap", corr = "auto", na.data = "pairwise",
                   na.derivative = "none", seed = NULL, columns = NULL, ...) {
  if (!is.data.frame(data)) {
    pybridge_abort("invalid_input", "`data` must be a data frame (rows = time points).")
  }
  result <- py_call("dynEGA", data, id = id, group = group, n_embed = as_count(n.embed),
                    tau = as_count(tau), delta = delta,
                    use_derivatives = as_count(use.derivatives),
                    level = as_py_list(level), model = model, algorithm = algorithm,
                    corr = corr, na_data = na.data, na_derivative = na.derivative,
                    seed = seed, columns = as_py_list(columns), ...)
  population <- result$population
  structure(list(
    derivatives = from_python(result$derivatives),
    population = if (inherits(population, "python.builtin.NoneType")) NULL
                 else ega_from_python(population),
    group = lapply(named_items(result$group), ega_from_python),
    individual = lapply(named_items(result$individual), ega_from_python),
    methods = from_python(result$methods)
  ), class = "pybridge_dynEGA")
}

# Python dict of str -> object -> named R list of the (unconverted) objects.
named_items <- function(dictionary) {
  keys <- reticulate::py_to_r(reticulate::import_builtins(convert = FALSE)$list(dictionary))
  stats::setNames(lapply(keys, function(key) reticulate::py_get_item(dictionary, key)), keys)
}

ega_from_python <- function(ega) {
  square <- function(frame) {
    values <- from_python(frame$to_numpy())
    labels <- reticulate::py_to_r(frame$columns$tolist())
    matrix(values, nrow = length(labels), dimnames = list(labels, labels))
  }
  wc <- from_python(ega$wc$to_numpy())
  names(wc) <- reticulate::py_to_r(ega$wc$index$tolist())
  structure(list(
    network = square(ega$network),
    correlation = square(ega$correlation),
    wc = wc,
    n.dim = reticulate::py_to_r(ega$n_dim),
    TEFI = reticulate::py_to_r(ega$tefi),
    unidimensional = reticulate::py_to_r(ega$unidimensional),
    n = reticulate::py_to_r(ega$n),
    methods = from_python(ega$methods)
  ), class = "pybridge_EGA")
}

#' @export
print.pybridge_dynEGA <- function(x, ...) {
  cat("Dynamic EGA (pybridge; EGAnet 2.5.0 numbers)\n")
  if (!is.null(x$population)) {
    cat(sprintf("  population: %d communities, TEFI %.3f\n", x$population$n.dim,
                x$population$TEFI))
    print(x$population$wc)
  }
  if (length(x$group)) cat(sprintf("  groups: %d\n", length(x$group)))
  if (length(x$individual)) cat(sprintf("  individuals: %d\n", length(x$individual)))
  invisible(x)
}
