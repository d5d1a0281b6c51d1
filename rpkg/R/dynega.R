#' Dynamic Exploratory Graph Analysis (EGAnet's dynEGA)
#'
#' @description
#' \code{EGAnet::dynEGA()} (EGAnet 2.5.0) on pybridge's Python port, without
#' EGAnet: GLLA derivatives of every variable's series per id, then EGA networks and
#' communities of the derivatives for the population, each group and/or each
#' individual. Arguments, result and numbers are EGAnet's, so EGAnet scripts run
#' unchanged; a \code{\link{video_scores}} table can be passed directly.
#'
#' @details
#' \strong{Id and group.} As in EGAnet, a column named \code{id} (any case) is the
#' id column whatever \code{id} says; otherwise \code{id} is a column number
#' (1-based), a column name, or a vector with one id per row. \code{group} likewise,
#' with a column named \code{group} first; a numeric \code{group} counts the columns
#' left after the id column is taken out (EGAnet's rule). Without an id column a
#' \code{video} column (several videos scored together) is the id.
#'
#' \strong{Variables} are the label columns of a scores table: all other columns
#' except the metadata columns of \code{video_scores()} (\code{frame},
#' \code{time_s}, \code{video}, \code{face_id}, \code{track_id},
#' \code{face_found}, \code{face_score}, the face box, \code{reason}), unless
#' \code{columns} names them. Without an id column, a table with several faces per
#' frame (\code{face_selection = "all"}) gets one id per video and face (e.g.
#' \code{"clip.mp4 track 2"}).
#'
#' Options EGAnet has that pybridge does not run (\code{model = "BGGM"},
#' \code{corr = "cor_auto"}, \code{uni.method = "expand"},
#' \code{n.embed.optimize = TRUE}, ...) give an error of class
#' \code{pybridge_unsupported_option} whose message names the alternative.
#'
#' @param data A data frame or matrix, rows in time order within each id.
#' @param id,group Id and group: column number, column name or one value per row
#'   (see Details).
#' @param n.embed Embedding dimension (>= 3).
#' @param n.embed.optimize Must be \code{FALSE} (TEFI optimisation of the embedding
#'   is not available in pybridge).
#' @param tau Offset between window members (1 to 3).
#' @param delta Time between observations (1 to 3).
#' @param use.derivatives Derivative order analysed: 0, 1 (default) or 2.
#' @param na.derivative Missing values in the series: \code{"none"} (default),
#'   \code{"kalman"}, \code{"rowwise"} or \code{"skipover"}.
#' @param zero.jitter SD of the jitter on constant derivative series (at most 0.001).
#' @param level Any of \code{"individual"}, \code{"group"}, \code{"population"}
#'   (default when not given: \code{"population"}).
#' @param corr,na.data,model,algorithm,uni.method EGA options, see \code{\link{EGA}}.
#' @param ncores Threads for the individual level (default: half the cores); the
#'   results do not depend on it.
#' @param seed EGAnet's seed (jitter of constant series, Louvain runs); \code{NULL}
#'   is not reproducible, as in EGAnet.
#' @param verbose Report the steps as messages.
#' @param columns pybridge's addition: names of the variable columns.
#' @param ... Further EGA options (see \code{\link{EGA}}), e.g. \code{gamma},
#'   \code{algorithm.args}, \code{model.args}, \code{consensus.iter}.
#'
#' @return An object of class \code{dynEGA}:
#' \describe{
#'   \item{\code{Derivatives$Estimates}}{A list with one matrix of derivatives per
#'     id (named by id; attributes \code{ID} and \code{Group}).}
#'   \item{\code{Derivatives$EstimatesDF}}{All derivatives stacked, with columns
#'     \code{<variable>.DerivOrd<k>}, \code{id} and \code{group} (character).}
#'   \item{\code{dynEGA$population}}{An EGA object (see \code{\link{EGA}}) of class
#'     \code{c("dynEGA.Population", "EGA")}.}
#'   \item{\code{dynEGA$group}}{A list of EGA objects named by group, class
#'     \code{dynEGA.Group}.}
#'   \item{\code{dynEGA$individual}}{A list of EGA objects named by id, class
#'     \code{dynEGA.Individual}. Variables without defined correlations for an id
#'     have zero network rows and \code{NA} membership, as in EGAnet.}
#' }
#' Attribute \code{"glla"} holds \code{n.embed}, \code{tau}, \code{delta},
#' \code{use.derivatives} and \code{n.embed.optimize}.
#'
#' @seealso \code{\link{EGA}}, \code{\link{print.dynEGA}}, \code{\link{glla}},
#'   \code{\link{video_scores}}, \code{\link{estimate_dlo}}
#' @export
#' @examples
#' if (reticulate::py_module_available("pybridge")) {
#'   set.seed(5)
#'   data <- do.call(rbind, lapply(1:4, function(i) {
#'     y <- simulate_dlo(-0.2, -0.1, 0.5, n_steps = 100, n_series = 4)$y
#'     data.frame(ID = i, happy = y[1, ] + y[2, ], joy = y[1, ] - y[2, ],
#'                sad = y[3, ], angry = y[3, ] + y[4, ])
#'   }))
#'   result <- dynEGA(data, n.embed = 5, level = c("population", "individual"),
#'                    seed = 1, verbose = FALSE)
#'   result$dynEGA$population$wc
#'   summary(result$dynEGA$individual)
#' }
dynEGA <- function(data, id = NULL, group = NULL, n.embed = 5, n.embed.optimize = FALSE,
                   tau = 1, delta = 1, use.derivatives = 1,
                   na.derivative = c("none", "kalman", "rowwise", "skipover"),
                   zero.jitter = 0.001, level = c("individual", "group", "population"),
                   corr = c("auto", "cor_auto", "pearson", "spearman"),
                   na.data = c("pairwise", "listwise"),
                   model = c("BGGM", "glasso", "TMFG"),
                   algorithm = c("leiden", "louvain", "walktrap"),
                   uni.method = c("expand", "LE", "louvain"),
                   ncores, seed = NULL, verbose = TRUE, columns = NULL, ...) {
  check_flag(verbose, "verbose")
  check_flag(n.embed.optimize, "n.embed.optimize")
  if (n.embed.optimize || length(n.embed) > 1) {
    pybridge_abort(c("unsupported_option", "invalid_input"), paste0(
      "Optimising TEFI over embedding dimensions (n.embed.optimize = TRUE or several ",
      "n.embed) is not available in pybridge; pass one n.embed (EGAnet's default is 5)."))
  }
  level <- if (missing(level)) "population" else match.arg(level, several.ok = TRUE)
  table <- as_python_table(data, "data")
  if (is.matrix(table)) table <- as.data.frame(table)
  located <- locate_id_group(table, id, group)
  arguments <- ega_python_arguments(corr, na.data, model, algorithm, uni.method, seed,
                                    list(...))
  arguments <- c(arguments, list(
    id = located$id, group = located$group, n_embed = as_count(n.embed),
    tau = as_count(tau), delta = delta, use_derivatives = as_count(use.derivatives),
    level = as.list(level), zero_jitter = zero.jitter,
    na_derivative = eganet_choice(na.derivative, "na.derivative", "none"),
    columns = as_py_list(columns)
  ))
  if (!missing(ncores)) arguments$ncores <- check_count(ncores, "ncores")
  if (is.null(seed)) {
    message("Argument 'seed' is NULL: results are not reproducible. Set 'seed' for reproducible results.")
  }
  if (verbose) message("Computing derivatives and networks (pybridge)...")
  plain <- from_python(do.call(py_call, c(list("dynega", located$data), arguments,
                                          list(.object = python_glue()))))
  dynega_object(plain, level, list(n.embed = n.embed, tau = tau, delta = delta,
                                   use.derivatives = use.derivatives,
                                   n.embed.optimize = FALSE))
}

# EGAnet's id/group rules -> column names for Python (a vector becomes a column).
locate_id_group <- function(data, id, group, call = sys.call(-1)) {
  pick <- function(frame, value, literal) {
    lowered <- tolower(names(frame))
    if (literal %in% lowered) return(list(frame = frame, name = names(frame)[match(literal, lowered)]))
    if (is.null(value)) return(list(frame = frame, name = NULL))
    if (length(value) == nrow(frame) && length(value) != 1) {
      frame[[literal]] <- value
      return(list(frame = frame, name = literal))
    }
    if (length(value) != 1 || !(is.numeric(value) || is.character(value)) || is.na(value)) {
      pybridge_abort("invalid_input", sprintf(paste0(
        "`%s` must be a column number, a column name or one value per row (%d)."),
        literal, nrow(frame)), call = call)
    }
    if (is.numeric(value)) {
      if (value != round(value) || value < 1 || value > ncol(frame)) {
        pybridge_abort("invalid_input", sprintf(
          "`%s = %s` is not a column number of the data (1 to %d).", literal,
          format(value), ncol(frame)), call = call)
      }
      return(list(frame = frame, name = names(frame)[value]))
    }
    found <- names(frame)[names(frame) == value]
    if (!length(found)) found <- names(frame)[tolower(names(frame)) == tolower(value)]
    if (!length(found)) {
      pybridge_abort("invalid_input", sprintf(
        "`%s = \"%s\"` is not a column of the data; columns are %s.", literal, value,
        paste(names(frame), collapse = ", ")), call = call)
    }
    list(frame = frame, name = found[1])
  }
  id_pick <- pick(data, id, "id")
  # EGAnet numbers the group column among the columns left after the id column
  rest <- id_pick$frame
  if (!is.null(id_pick$name)) rest <- rest[names(rest) != id_pick$name]
  group_pick <- pick(rest, group, "group")
  frame <- id_pick$frame
  if (!is.null(group_pick$name) && !group_pick$name %in% names(frame)) {
    frame[[group_pick$name]] <- group_pick$frame[[group_pick$name]]
  }
  list(data = frame, id = id_pick$name, group = group_pick$name)
}

# The glue module's plain dynEGA result -> EGAnet's dynEGA object.
dynega_object <- function(plain, level, glla) {
  estimates_df <- plain$derivatives
  variables <- setdiff(names(estimates_df), c("id", "group"))
  unit <- paste(estimates_df$id, estimates_df$group, sep = "--")
  units <- unique(unit)
  keys <- unique(estimates_df$id)
  if (length(keys) != length(units)) keys <- units
  estimates <- lapply(units, function(u) {
    rows <- unit == u
    block <- as.matrix(estimates_df[rows, variables, drop = FALSE])
    rownames(block) <- NULL
    structure(block, ID = estimates_df$id[rows], Group = estimates_df$group[rows])
  })
  names(estimates) <- keys
  levels_out <- list()
  if ("individual" %in% level) {
    individual <- lapply(plain$individual, ega_object)
    names(individual) <- as.character(unlist(plain$individual_names))
    levels_out$individual <- structure(individual, class = "dynEGA.Individual")
  }
  if ("group" %in% level) {
    groups <- lapply(plain$group, ega_object)
    names(groups) <- as.character(unlist(plain$group_names))
    levels_out$group <- structure(groups, class = "dynEGA.Group")
  }
  if ("population" %in% level) {
    levels_out$population <- ega_object(plain$population,
                                        class = c("dynEGA.Population", "EGA"))
  }
  structure(list(Derivatives = list(Estimates = estimates, EstimatesDF = estimates_df),
                 dynEGA = levels_out),
            glla = glla, class = "dynEGA")
}

#' Print, summarise and plot dynEGA results
#'
#' @description
#' \code{print()} and \code{summary()} of a \code{\link{dynEGA}} result show the
#' GLLA settings and then each estimated level: the population EGA, each group's
#' EGA, and for individuals the number of ids and the distribution of their
#' numbers of communities. \code{plot()} draws the networks with nodes coloured by
#' community (see \code{\link{plot.EGA}}).
#'
#' @param x,object A \code{dynEGA} object or one of its levels
#'   (\code{x$dynEGA$population}, \code{$group}, \code{$individual}).
#' @param base Group (number or name) drawn first.
#' @param id Ids (numbers or names) of the individual networks to draw; by default
#'   the first four.
#' @param ... Passed to \code{\link{plot.EGA}} (e.g. \code{layout}).
#'
#' @return \code{x} (or \code{object}), invisibly.
#' @seealso \code{\link{dynEGA}}, \code{\link{plot.EGA}}
#' @export
print.dynEGA <- function(x, ...) {
  settings <- attr(x, "glla")
  cat("Dynamic Exploratory Graph Analysis (pybridge, EGAnet 2.5.0 numbers)\n\n")
  cat(sprintf("Number of Embeddings: %s\nEmbedding Offset (tau): %s\n",
              format(settings$n.embed), format(settings$tau)))
  cat(sprintf("Time between Observations (delta/lag): %s\nDerivatives: %s\n",
              format(settings$delta),
              c("Moving Average (0)", "First-order (1)", "Second-order (2)")[
                settings$use.derivatives + 1]))
  rule <- paste0("\n", strrep("-", 40), "\n\n")
  for (name in c("population", "group", "individual")) {
    if (!is.null(x$dynEGA[[name]])) {
      cat(rule)
      print(x$dynEGA[[name]])
    }
  }
  invisible(x)
}

#' @rdname print.dynEGA
#' @export
summary.dynEGA <- function(object, ...) print(object, ...)

#' @rdname print.dynEGA
#' @export
print.dynEGA.Population <- function(x, ...) {
  cat("Population\n\n")
  print.EGA(x, ...)
}

#' @rdname print.dynEGA
#' @export
print.dynEGA.Group <- function(x, ...) {
  cat("Group\n\n")
  for (name in names(x)) {
    cat(sprintf("Group: %s\n\n", name))
    print(x[[name]])
    if (name != names(x)[length(x)]) cat("\n------------\n\n")
  }
  invisible(x)
}

#' @rdname print.dynEGA
#' @export
print.dynEGA.Individual <- function(x, ...) {
  cat("Individual\n\n")
  dimensions <- vapply(x, function(ega) length(unique(ega$wc[!is.na(ega$wc)])), numeric(1))
  cat(sprintf("Number of cases: %d\n\nMedian dimensions: %s\n\n", length(x),
              format(stats::median(dimensions))))
  frequency <- table(dimensions)
  shown <- rbind(names(frequency), as.vector(frequency))
  dimnames(shown) <- list(c("Dimensions: ", "Frequency: "), rep("", ncol(shown)))
  print(shown, quote = FALSE)
  invisible(x)
}

#' @rdname print.dynEGA
#' @export
summary.dynEGA.Population <- function(object, ...) print(object, ...)

#' @rdname print.dynEGA
#' @export
summary.dynEGA.Group <- function(object, ...) print(object, ...)

#' @rdname print.dynEGA
#' @export
summary.dynEGA.Individual <- function(object, ...) print(object, ...)

#' @rdname print.dynEGA
#' @export
plot.dynEGA <- function(x, base = 1, id = NULL, ...) {
  drawn <- Filter(Negate(is.null), x$dynEGA)
  if (length(drawn) > 1 && grDevices::dev.interactive()) {
    old <- grDevices::devAskNewPage(TRUE)
    on.exit(grDevices::devAskNewPage(old))
  }
  if (!is.null(x$dynEGA$population)) plot(x$dynEGA$population, ...)
  if (!is.null(x$dynEGA$group)) plot(x$dynEGA$group, base = base, ...)
  if (!is.null(x$dynEGA$individual)) plot(x$dynEGA$individual, id = id, ...)
  invisible(x)
}

#' @rdname print.dynEGA
#' @export
plot.dynEGA.Population <- function(x, ...) {
  draw_network(x$network, x$wc, title = "Population", ...)
  invisible(x)
}

#' @rdname print.dynEGA
#' @export
plot.dynEGA.Group <- function(x, base = 1, ...) {
  order <- if (is.character(base)) match(base, names(x)) else base
  order <- c(order, setdiff(seq_along(x), order))
  draw_side_by_side(x[order], paste("Group", names(x)[order]), ...)
  invisible(x)
}

#' @rdname print.dynEGA
#' @export
plot.dynEGA.Individual <- function(x, id = NULL, ...) {
  chosen <- if (is.null(id)) seq_len(min(4, length(x)))
            else if (is.character(id)) match(id, names(x)) else id
  draw_side_by_side(unclass(x)[chosen], paste("ID", names(x)[chosen]), ...)
  invisible(x)
}

draw_side_by_side <- function(egas, titles, ...) {
  shape <- if (length(egas) <= 3) c(1, length(egas)) else grDevices::n2mfrow(length(egas))
  old <- graphics::par(mfrow = shape)
  on.exit(graphics::par(old))
  for (i in seq_along(egas)) draw_network(egas[[i]]$network, egas[[i]]$wc,
                                          title = titles[i], ...)
}
