# EGAnet's EGA() on pybridge.dynamics, and what dynEGA(), net.loads(), net.scores()
# and tefi() share: EGAnet's option vocabulary mapped onto the Python arguments, and
# EGA objects built from the glue module's plain results.

# EGAnet's choices per option: what pybridge runs, and what EGAnet offers that pybridge
# does not (with the alternative the error names).
eganet_options <- list(
  corr = list(
    supported = c("auto", "pearson", "spearman"),
    missing = c(cor_auto = "qgraph's cor_auto is not part of pybridge; use corr = \"auto\" (EGAnet's default: polychoric correlations for ordinal, Pearson for continuous variables)",
                cosine = "cosine similarity is not part of pybridge; use corr = \"auto\" or \"pearson\"")
  ),
  na.data = list(supported = c("pairwise", "listwise"), missing = character(0)),
  model = list(
    supported = c("glasso", "TMFG"),
    missing = c(BGGM = "model = \"BGGM\" is not available in pybridge (EGAnet 2.5.0 switches it off as well); use model = \"glasso\" (EGAnet's default) or \"TMFG\"")
  ),
  algorithm = list(
    supported = c("walktrap", "louvain", "leiden", "fast_greedy", "leading_eigen",
                  "edge_betweenness", "optimal", "label_prop", "infomap"),
    missing = c(spinglass = "algorithm = \"spinglass\" is not available in pybridge; use \"walktrap\" (EGAnet's default), \"louvain\" or \"leiden\"",
                fluid = "algorithm = \"fluid\" is not available in pybridge; use \"walktrap\" (EGAnet's default), \"louvain\" or \"leiden\"")
  ),
  uni.method = list(
    supported = c("louvain", "LE"),
    missing = c(expand = "uni.method = \"expand\" is not available in pybridge; use uni.method = \"louvain\" (EGAnet's default) or \"LE\"")
  ),
  na.derivative = list(supported = c("none", "kalman", "rowwise", "skipover"),
                       missing = character(0)),
  loading.method = list(supported = c("revised", "original"), missing = character(0))
)

# One EGAnet option, by EGAnet's rule: NULL or several values (the argument's whole
# default vector when it is not given) mean `default`; one value is matched without
# regard to case.
eganet_choice <- function(value, name, default, call = sys.call(-1)) {
  spec <- eganet_options[[name]]
  if (is.null(value) || (is.character(value) && length(value) > 1)) return(default)
  if (is.function(value)) {
    pybridge_abort(c("unsupported_option", "invalid_input"), sprintf(
      "`%s` as an R function is not available in pybridge; give one of %s.", name,
      paste0("\"", spec$supported, "\"", collapse = ", ")), call = call)
  }
  if (!is.character(value) || length(value) != 1 || is.na(value)) {
    pybridge_abort("invalid_input", sprintf("`%s` must be one of %s.", name,
                   paste0("\"", spec$supported, "\"", collapse = ", ")), call = call)
  }
  found <- spec$supported[tolower(spec$supported) == tolower(value)]
  if (length(found)) return(found)
  gone <- names(spec$missing)[tolower(names(spec$missing)) == tolower(value)]
  if (length(gone)) {
    pybridge_abort(c("unsupported_option", "invalid_input"), spec$missing[[gone]],
                   call = call)
  }
  pybridge_abort("invalid_input", sprintf(
    "`%s = \"%s\"` is not an option; use one of %s.", name, value,
    paste0("\"", spec$supported, "\"", collapse = ", ")), call = call)
}

# EGAnet's `...` of EGA() (also via dynEGA): model.args and algorithm.args are spread
# into it as EGAnet does, dotted names become the Python keywords, and algorithm
# options go into algorithm_args.
ega_extra_arguments <- function(extra, algorithm, call = sys.call(-1)) {
  for (legacy in c("model.args", "algorithm.args")) {
    if (!is.null(extra[[legacy]])) {
      spread <- extra[[legacy]]
      extra[[legacy]] <- NULL
      extra[names(spread)] <- spread
    }
  }
  python <- list()
  algorithm_args <- list()
  unused <- character(0)
  for (name in names(extra)) {
    value <- extra[[name]]
    switch(name,
      gamma = python$gamma <- value,
      lambda.min.ratio = python$lambda_min_ratio <- value,
      nlambda = python$nlambda <- as_count(value),
      consensus.iter = python$consensus_iter <- as_count(value),
      ordinal.categories = python$ordinal_categories <- as_count(value),
      steps = algorithm_args$steps <- as_count(value),
      resolution = , resolution_parameter = algorithm_args$resolution <- value,
      nb.trials = , nb_trials = algorithm_args$nb_trials <- as_count(value),
      consensus.method = if (!identical(value, "most_common")) {
        pybridge_abort(c("unsupported_option", "invalid_input"), sprintf(
          "consensus.method = \"%s\" is not available in pybridge; use \"most_common\" (EGAnet's default)",
          value), call = call)
      },
      objective_function = if (!identical(tolower(value), "modularity")) {
        pybridge_abort(c("unsupported_option", "invalid_input"), sprintf(
          "objective_function = \"%s\" is not available in pybridge; Leiden runs with \"modularity\" (EGAnet's default)",
          value), call = call)
      },
      order = if (!identical(value, "higher")) {
        pybridge_abort(c("unsupported_option", "invalid_input"),
          "Louvain with order = \"lower\" is not available in pybridge; use order = \"higher\" (EGAnet's default)",
          call = call)
      },
      plot.args = , plot.EGA = , needs_usable = NULL,
      unused <- c(unused, name)
    )
  }
  if (length(unused)) {
    warning(warningCondition(sprintf(
      "pybridge's EGA does not use the argument(s) %s; they were ignored.",
      paste(unused, collapse = ", ")), class = "pybridge_warning", call = call))
  }
  if (length(algorithm_args)) python$algorithm_args <- algorithm_args
  python
}

# Every EGA option as Python keywords (shared by EGA() and dynEGA()).
ega_python_arguments <- function(corr, na.data, model, algorithm, uni.method, seed, extra,
                                 call = sys.call(-1)) {
  algorithm <- eganet_choice(algorithm, "algorithm", "walktrap", call = call)
  c(list(
    corr = eganet_choice(corr, "corr", "auto", call = call),
    na_data = eganet_choice(na.data, "na.data", "pairwise", call = call),
    model = eganet_choice(model, "model", "glasso", call = call),
    algorithm = algorithm,
    uni_method = eganet_choice(uni.method, "uni.method", "louvain", call = call),
    seed = check_seed(seed, call)
  ), ega_extra_arguments(extra, algorithm, call))
}

check_seed <- function(seed, call) {
  if (is.null(seed)) return(NULL)
  if (!is.numeric(seed) || length(seed) != 1 || is.na(seed) || seed < 0) {
    pybridge_abort("invalid_input", "`seed` must be NULL or one non-negative number.",
                   call = call)
  }
  as.double(seed)
}

# A data frame or matrix as it goes to Python: tibbles become data frames; a matrix
# without column names stays a matrix (Python names its columns V1, V2, ... as EGAnet).
as_python_table <- function(data, what, call = sys.call(-1)) {
  if (is.matrix(data) && is.null(colnames(data))) return(unclass(data))
  if (is.matrix(data) || is.data.frame(data)) return(as.data.frame(data, check.names = FALSE))
  pybridge_abort("invalid_input", sprintf(
    "`%s` must be a data frame or a matrix, not %s.", what, class(data)[1]), call = call)
}

# The glue module's plain EGA result -> EGAnet's EGA object.
ega_object <- function(plain, class = "EGA") {
  labels <- as.character(unlist(plain$names))
  square <- function(values) matrix(as.double(values), length(labels), length(labels),
                                    dimnames = list(labels, labels))
  methods <- plain$methods
  names(methods) <- gsub("_", ".", names(methods), fixed = TRUE)
  network <- square(plain$network)
  attr(network, "methods") <- methods
  wc <- nan_as_na(as.double(plain$wc))
  names(wc) <- labels
  dim.variables <- data.frame(items = labels, dimension = unname(wc),
                              stringsAsFactors = FALSE)
  dim.variables <- dim.variables[order(dim.variables$dimension), , drop = FALSE]
  structure(list(
    network = network,
    wc = wc,
    n.dim = as.double(plain$n_dim),
    correlation = square(plain$correlation),
    n = as.double(plain$n),
    dim.variables = dim.variables,
    TEFI = nan_as_na(as.double(plain$tefi))
  ), unidimensional = list(uni.method = methods$uni.method,
                           unidimensional = isTRUE(plain$unidimensional)),
  class = class)
}

# NaN from Python -> NA, elementwise (EGAnet marks unassigned nodes with NA).
nan_as_na <- function(x) {
  x[is.nan(x)] <- NA_real_
  x
}

#' Exploratory Graph Analysis (EGAnet's EGA)
#'
#' @description
#' Estimates a network of the variables (EBIC-selected graphical lasso or TMFG),
#' finds its communities and checks for a single dimension, with the arguments,
#' result and numbers of \code{EGAnet::EGA()} (EGAnet 2.5.0). Runs on
#' pybridge's Python port, without EGAnet.
#'
#' @param data A data frame or matrix of variables (rows = observations), or a
#'   correlation matrix together with \code{n}.
#' @param n Sample size when \code{data} is a correlation matrix.
#' @param corr \code{"auto"} (default), \code{"pearson"} or \code{"spearman"}.
#'   (\code{"cor_auto"} and \code{"cosine"} give an error of class
#'   \code{pybridge_unsupported_option}.)
#' @param na.data \code{"pairwise"} (default) or \code{"listwise"}.
#' @param model \code{"glasso"} (default) or \code{"TMFG"}; \code{"BGGM"} gives an
#'   error of class \code{pybridge_unsupported_option}.
#' @param algorithm \code{"walktrap"} (default), \code{"louvain"} (EGAnet's own
#'   Louvain with its 1000-run consensus), \code{"leiden"}, or igraph's
#'   \code{"fast_greedy"}, \code{"leading_eigen"}, \code{"edge_betweenness"},
#'   \code{"optimal"}, \code{"label_prop"}, \code{"infomap"}.
#' @param uni.method Unidimensionality check: \code{"louvain"} (default) or
#'   \code{"LE"}.
#' @param plot.EGA Draw the network (see \code{\link{plot.EGA}}).
#' @param verbose Accepted for EGAnet scripts; pybridge prints nothing more.
#' @param seed Seed of the Louvain runs (\code{NULL}: not reproducible, as in
#'   EGAnet).
#' @param ... EGAnet's further options: \code{gamma}, \code{lambda.min.ratio},
#'   \code{nlambda}, \code{consensus.iter}, \code{ordinal.categories},
#'   \code{model.args} and \code{algorithm.args} (lists of those), and algorithm
#'   options \code{steps}, \code{resolution_parameter}, \code{nb.trials}.
#'
#' @return An object of class \code{EGA}: a list with \code{network} (matrix, with
#'   the estimation settings as attribute \code{"methods"}), \code{wc} (named
#'   community vector, \code{NA} for unassigned variables), \code{n.dim},
#'   \code{correlation}, \code{n}, \code{dim.variables} (data frame of
#'   \code{items} and \code{dimension}) and \code{TEFI}; attribute
#'   \code{"unidimensional"}.
#'
#' @seealso \code{\link{dynEGA}}, \code{\link{net.loads}}, \code{\link{tefi}}
#' @export
EGA <- function(data, n = NULL,
                corr = c("auto", "cor_auto", "cosine", "pearson", "spearman"),
                na.data = c("pairwise", "listwise"),
                model = c("BGGM", "glasso", "TMFG"),
                algorithm = c("leiden", "louvain", "walktrap"),
                uni.method = c("expand", "LE", "louvain"),
                plot.EGA = TRUE, verbose = FALSE, seed = NULL, ...) {
  check_flag(plot.EGA, "plot.EGA")
  check_flag(verbose, "verbose")
  table <- as_python_table(data, "data")
  arguments <- ega_python_arguments(corr, na.data, model, algorithm, uni.method, seed,
                                    list(...))
  if (!is.null(n)) arguments$n <- as_count(n)
  result <- ega_object(from_python(do.call(py_call, c(list("ega", table),
                                                      arguments,
                                                      list(.object = python_glue())))))
  if (plot.EGA && any(result$network != 0)) plot(result)
  result
}

#' Print, summarise and plot EGA results
#'
#' @description
#' \code{print()} and \code{summary()} describe the network (model, edges, weights),
#' the communities, the unidimensionality check and TEFI. \code{plot()} draws the
#' network with nodes coloured by community: with qgraph when it is installed
#' (spring layout, green positive and red negative edges, as EGA users know it),
#' else with igraph, else with base graphics.
#'
#' @param x,object An \code{EGA} object (from \code{\link{EGA}} or a level of
#'   \code{\link{dynEGA}}).
#' @param layout Node layout: \code{"spring"} (default) or \code{"circle"}.
#' @param ... Further arguments for \code{qgraph::qgraph()} (or
#'   \code{igraph::plot.igraph()}).
#'
#' @return \code{print()} and \code{summary()} return \code{x} invisibly;
#'   \code{plot()} returns the qgraph (or igraph) object invisibly.
#' @seealso \code{\link{EGA}}, \code{\link{plot.dynEGA}}
#' @export
print.EGA <- function(x, ...) {
  methods <- attr(x$network, "methods")
  model <- if (identical(tolower(methods$model), "glasso")) "GLASSO (EBIC)" else "TMFG"
  cat(sprintf("Model: %s\nCorrelations: %s\n", model, methods$corr))
  if (!is.null(methods$lambda)) {
    cat(sprintf("Lambda: %s (gamma = %s, lambda.min.ratio = %s)\n",
                format(signif(methods$lambda, 4)), format(methods$gamma),
                format(methods$lambda.min.ratio)))
  }
  weights <- x$network[upper.tri(x$network)]
  weights <- weights[weights != 0 & !is.na(weights)]
  nodes <- ncol(x$network)
  cat(sprintf("\nNumber of nodes: %d\nNumber of edges: %d\nEdge density: %.3f\n",
              nodes, length(weights), length(weights) / max(1, nodes * (nodes - 1) / 2)))
  if (length(weights)) {
    cat("\nNon-zero edge weights:\n")
    print(round(c(M = mean(weights), SD = stats::sd(weights), Min = min(weights),
                  Max = max(weights)), 3))
  }
  cat(sprintf("\n----\n\nAlgorithm: %s\n\nNumber of communities: %d\n\n",
              algorithm_label(methods$algorithm), as.integer(x$n.dim)))
  print(x$wc)
  unidimensional <- attr(x, "unidimensional")
  if (!is.null(unidimensional)) {
    method <- if (identical(unidimensional$uni.method, "LE")) "Leading Eigenvector" else "Louvain"
    cat(sprintf("\n----\n\nUnidimensional Method: %s\nUnidimensional: %s\n", method,
                if (isTRUE(unidimensional$unidimensional)) "Yes" else "No"))
  }
  cat(sprintf("\n----\n\nTEFI: %.3f\n", x$TEFI))
  invisible(x)
}

algorithm_label <- function(algorithm) {
  if (is.null(algorithm)) return("unknown")
  switch(algorithm, walktrap = "Walktrap", louvain = "Louvain", leiden = "Leiden",
         fast_greedy = "Fast-greedy", leading_eigen = "Leading Eigenvector",
         edge_betweenness = "Edge Betweenness", optimal = "Optimal",
         label_prop = "Label Propagation", infomap = "Infomap", algorithm)
}

#' @rdname print.EGA
#' @export
summary.EGA <- function(object, ...) print(object, ...)

#' @rdname print.EGA
#' @export
plot.EGA <- function(x, layout = "spring", ...) {
  draw_network(x$network, x$wc, layout = layout, ...)
}

# Network drawing shared by every EGA plot: nodes coloured by community (grey for
# NA), positive edges green, negative red, width by |weight|.
draw_network <- function(network, wc, layout = "spring", title = NULL, ...) {
  network <- unclass(network)
  attr(network, "methods") <- NULL
  labels <- colnames(network)
  community <- ifelse(is.na(wc), "NA", as.character(wc))
  numbers <- sort(unique(wc[!is.na(wc)]))
  levels <- c(as.character(numbers), if (anyNA(wc)) "NA")
  # community k has the same colour in every plot (networks side by side compare)
  palette <- grDevices::palette.colors(8, "Set 2")
  colours <- stats::setNames(c(palette[(numbers - 1) %% 8 + 1], if (anyNA(wc)) "grey80"),
                             levels)
  if (requireNamespace("qgraph", quietly = TRUE)) {
    groups <- lapply(as.character(levels), function(level) which(community == level))
    names(groups) <- as.character(levels)
    drawn <- qgraph::qgraph(network, layout = layout, groups = groups,
                            color = unname(colours), labels = labels,
                            posCol = "darkgreen", negCol = "red", title = title, ...)
    return(invisible(drawn))
  }
  if (requireNamespace("igraph", quietly = TRUE)) {
    diag(network) <- 0
    graph <- igraph::graph_from_adjacency_matrix(network, mode = "undirected",
                                                 weighted = TRUE, diag = FALSE)
    weights <- igraph::E(graph)$weight
    igraph::plot.igraph(
      graph, layout = if (layout == "circle") igraph::layout_in_circle(graph)
                      else igraph::layout_with_fr(graph, weights = abs(weights)),
      vertex.color = unname(colours[community]), vertex.label = labels,
      edge.width = 1 + 4 * abs(weights) / max(abs(weights)),
      edge.color = ifelse(weights > 0, "darkgreen", "red"), main = title, ...)
    return(invisible(graph))
  }
  angle <- pi / 2 - 2 * pi * (seq_along(labels) - 1) / length(labels)
  graphics::plot(cos(angle), sin(angle), pch = 21, cex = 4,
                 bg = unname(colours[community]), axes = FALSE, xlab = "", ylab = "",
                 xlim = c(-1.3, 1.3), ylim = c(-1.3, 1.3), main = title)
  graphics::text(cos(angle), sin(angle), labels, cex = 0.7)
  invisible(NULL)
}
