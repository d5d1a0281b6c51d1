# EGAnet's net.loads(), net.scores(), tefi(), glla() and Embed() on pybridge.dynamics.

# Network and memberships from an EGA object, or from a matrix and `wc`.
network_and_wc <- function(A, wc, call = sys.call(-1)) {
  if (is.list(A) && !is.data.frame(A) && !is.null(A$network) && !is.null(A$wc)) {
    if (missing(wc) || is.null(wc)) wc <- A$wc
    A <- A$network
  }
  network <- unclass(as.matrix(A))
  attr(network, "methods") <- NULL
  if (missing(wc) || is.null(wc)) {
    pybridge_abort("invalid_input",
                   "`wc` is missing: pass the memberships or an EGA object as `A`.",
                   call = call)
  }
  if (length(wc) != ncol(network) || nrow(network) != ncol(network)) {
    pybridge_abort("invalid_input", sprintf(
      "`A` must be a square network with one membership in `wc` per node (%d x %d network, %d memberships).",
      nrow(network), ncol(network), length(wc)), call = call)
  }
  labels <- colnames(network)
  if (is.null(labels)) labels <- if (!is.null(names(wc))) names(wc) else paste0("V", seq_along(wc))
  dimnames(network) <- list(labels, labels)
  wc <- stats::setNames(as.double(wc), labels)
  list(network = network, wc = wc, names = labels)
}

#' Network loadings (EGAnet's net.loads)
#'
#' @description
#' Loadings of every node on every community of a network, as
#' \code{EGAnet::net.loads()} (EGAnet 2.5.0) computes them.
#'
#' @param A An \code{\link{EGA}} object (supplies \code{wc} too) or a network matrix.
#' @param wc Memberships, one per node (\code{NA} allowed).
#' @param loading.method \code{"revised"} (EGAnet's default since 2.0.7; also when
#'   not given) or \code{"original"} (alias \code{"BRM"}).
#' @param scaling Must be 2 (EGAnet's default).
#' @param rotation Must be \code{NULL}: rotations (GPArotation) are not available in
#'   pybridge.
#' @param ordered \code{"descending"} (default: within each community by decreasing
#'   own loading) or \code{"variable"} (the nodes' order).
#' @param ... Unused.
#'
#' @return An object of class \code{net.loads}: \code{unstd} and \code{std}
#'   (nodes x communities matrices, columns named by community) and \code{rotated}
#'   (\code{NULL}); attributes \code{"methods"} and \code{"membership"}.
#' @seealso \code{\link{net.scores}}, \code{\link{EGA}}
#' @export
net.loads <- function(A, wc, loading.method = c("original", "revised"), scaling = 2,
                      rotation = NULL, ordered = c("descending", "variable"), ...) {
  input <- network_and_wc(A, if (missing(wc)) NULL else wc)
  method <- loading_method_choice(loading.method)
  if (!identical(as.double(scaling), 2)) {
    pybridge_abort(c("unsupported_option", "invalid_input"),
                   "Only scaling = 2 (EGAnet's default) is available in pybridge.")
  }
  if (!is.null(rotation)) {
    pybridge_abort(c("unsupported_option", "invalid_input"), paste0(
      "Rotated loadings (rotation = \"", rotation, "\", GPArotation) are not available ",
      "in pybridge; use rotation = NULL."))
  }
  ordered <- if (length(ordered) > 1) "descending" else match.arg(ordered, c("descending", "variable"))
  plain <- from_python(py_call("net_loads", input$network, as.list(input$names),
                               as.list(unname(input$wc)), loading_method = method,
                               .object = python_glue()))
  shape <- function(values) {
    matrix(as.double(values), length(plain$rows),
           dimnames = list(as.character(unlist(plain$rows)),
                           as.character(unlist(plain$columns))))
  }
  unstd <- shape(plain$unstd)
  std <- shape(plain$std)
  if (ordered == "variable") {
    unstd <- unstd[input$names, , drop = FALSE]
    std <- std[input$names, , drop = FALSE]
  }
  structure(list(unstd = unstd, std = std, rotated = NULL),
            methods = list(loading.method = method, rotation = NULL, scaling = 2),
            membership = list(wc = input$wc), class = "net.loads")
}

loading_method_choice <- function(value) {
  if (length(value) > 1) return("revised")
  value <- switch(tolower(value), brm = "original", experimental = "revised", value)
  eganet_choice(value, "loading.method", "revised", call = sys.call(-1))
}

#' @rdname net.loads
#' @param x A \code{net.loads} object.
#' @param minimum.loading Loadings smaller in absolute value are shown blank.
#' @export
print.net.loads <- function(x, minimum.loading = 0.10, ...) {
  cat(sprintf("Loading Method: %s\n\n",
              if (attr(x, "methods")$loading.method == "revised") "Revised" else "Original"))
  shown <- format(round(x$std, 3), nsmall = 3)
  shown[abs(x$std) < minimum.loading | is.na(x$std)] <- ""
  print(noquote(shown))
  cat(sprintf("Standardized loadings >= |%.2f| are displayed.\n", minimum.loading))
  invisible(x)
}

#' @rdname net.loads
#' @param object A \code{net.loads} object.
#' @export
summary.net.loads <- function(object, ...) print(object, ...)

#' Network scores (EGAnet's net.scores)
#'
#' @description
#' Scores of every observation on every community: the standardised data weighted by
#' the simple-structure network loadings, as \code{EGAnet::net.scores()} (EGAnet
#' 2.5.0, \code{scores = "network"}).
#'
#' @param data The variables of the network (data frame or matrix).
#' @param A An \code{\link{EGA}} object or a network matrix.
#' @param wc Memberships when \code{A} is a matrix.
#' @param loading.method See \code{\link{net.loads}}.
#' @param rotation Must be \code{NULL}.
#' @param scores Must be \code{"network"} (the default); factor-score methods
#'   (psych) are not available in pybridge.
#' @param loading.structure Must be \code{"simple"} (the default).
#' @param impute \code{"none"} (default), \code{"mean"} or \code{"median"}:
#'   replaces missing values per variable before scoring.
#' @param ... Unused.
#'
#' @return A list: \code{scores} (list of \code{std.scores}, an observations x
#'   communities matrix, and \code{rot.scores} = \code{NULL}) and \code{loadings}
#'   (the \code{\link{net.loads}} object).
#' @seealso \code{\link{net.loads}}, \code{\link{EGA}}
#' @export
net.scores <- function(data, A, wc, loading.method = c("original", "revised"),
                       rotation = NULL,
                       scores = c("Anderson", "Bartlett", "components", "Harman", "network",
                                  "tenBerge", "Thurstone"),
                       loading.structure = c("simple", "full"),
                       impute = c("mean", "median", "none"), ...) {
  if (missing(data)) {
    pybridge_abort("invalid_input", "`data` is missing: scores need the original data.")
  }
  scores <- if (length(scores) > 1) "network" else scores
  if (!identical(tolower(scores), "network")) {
    pybridge_abort(c("unsupported_option", "invalid_input"), sprintf(
      "scores = \"%s\" (psych's factor scores) is not available in pybridge; use scores = \"network\".",
      scores))
  }
  loading.structure <- if (length(loading.structure) > 1) "simple" else loading.structure
  if (!identical(loading.structure, "simple")) {
    pybridge_abort(c("unsupported_option", "invalid_input"),
                   "loading.structure = \"full\" is not available in pybridge; use \"simple\".")
  }
  impute <- if (length(impute) > 1) "none" else match.arg(impute, c("mean", "median", "none"))
  table <- as.data.frame(as_python_table(data, "data"), check.names = FALSE)
  if (ncol(table) == nrow(table) && isSymmetric(unname(as.matrix(table)))) {
    pybridge_abort("invalid_input",
                   "`data` is a symmetric matrix; scores need the original data, not correlations.")
  }
  if (impute != "none") {
    fill <- if (impute == "mean") mean else stats::median
    table[] <- lapply(table, function(column) {
      column[is.na(column)] <- fill(column, na.rm = TRUE)
      column
    })
  }
  loadings <- net.loads(A, if (missing(wc)) NULL else wc, loading.method = loading.method,
                        rotation = rotation)
  input <- network_and_wc(A, if (missing(wc)) NULL else wc)
  plain <- from_python(py_call("net_scores", table, input$network, as.list(input$names),
                               as.list(unname(input$wc)),
                               loading_method = attr(loadings, "methods")$loading.method,
                               .object = python_glue()))
  std.scores <- matrix(as.double(plain$scores), nrow(table),
                       dimnames = list(NULL, as.character(unlist(plain$columns))))
  list(scores = list(std.scores = std.scores, rot.scores = NULL), loadings = loadings)
}

#' Total Entropy Fit Index (EGAnet's tefi)
#'
#' @description
#' Von Neumann entropy fit of a community structure, as \code{EGAnet::tefi()}
#' (EGAnet 2.5.0); lower is better.
#'
#' @param data An \code{\link{EGA}} object (its correlations and memberships), a
#'   correlation matrix, or data (auto correlations are computed).
#' @param structure Memberships, one per variable (taken from \code{data} when it is
#'   an EGA object and \code{structure} is \code{NULL}).
#' @param verbose Accepted for EGAnet scripts.
#'
#' @return A data frame with \code{VN.Entropy.Fit}, \code{Total.Correlation} and
#'   \code{Average.Entropy}.
#' @seealso \code{\link{EGA}}
#' @export
tefi <- function(data, structure = NULL, verbose = TRUE) {
  if (inherits(data, "dynEGA")) {
    pybridge_abort("invalid_input",
                   "Give one level of a dynEGA result, e.g. tefi(result$dynEGA$population).")
  }
  if (is.list(data) && !is.data.frame(data) && !is.null(data$correlation)) {
    if (is.null(structure)) structure <- data$wc
    data <- data$correlation
  }
  if (is.list(structure)) {
    pybridge_abort(c("unsupported_option", "invalid_input"),
                   "Hierarchical structures (generalized TEFI) are not available in pybridge; give one membership vector.")
  }
  if (is.null(structure)) {
    pybridge_abort("invalid_input", "`structure` is missing: give one membership per variable.")
  }
  values <- as.matrix(data)
  fit <- from_python(py_call("tefi", unname(values * 1), as.list(as.double(structure)),
                             .object = python_glue()))
  data.frame(VN.Entropy.Fit = nan_as_na(as.double(fit$VN.Entropy.Fit)),
             Total.Correlation = nan_as_na(as.double(fit$Total.Correlation)),
             Average.Entropy = nan_as_na(as.double(fit$Average.Entropy)))
}

#' Derivatives by GLLA and time-delay embedding (EGAnet's glla and Embed)
#'
#' @description
#' \code{glla()} estimates a series' derivatives by Generalized Local Linear
#' Approximation and \code{Embed()} builds its time-delay embedding matrix, as
#' \code{EGAnet::glla()} and \code{EGAnet::Embed()} (EGAnet 2.5.0).
#'
#' @param x A numeric vector (one series in time order; \code{NA} = missing).
#' @param n.embed,E Embedding dimension (window length).
#' @param tau Offset between window members.
#' @param delta Time between successive observations.
#' @param order Highest derivative order.
#' @param na.derivative \code{"none"} (default), \code{"kalman"}, \code{"rowwise"}
#'   or \code{"skipover"}; see \code{\link{dynEGA}}.
#'
#' @return \code{glla()}: a matrix with columns \code{DerivOrd0} to
#'   \code{DerivOrd<order>}. \code{Embed()}: a matrix with \code{E} columns whose
#'   row \code{r} is \code{x[r + (0:(E - 1)) * tau]}.
#' @seealso \code{\link{dynEGA}}
#' @export
#' @examples
#' if (reticulate::py_module_available("pybridge")) {
#'   glla((1:7)^2, n.embed = 5, tau = 1, delta = 1, order = 2)
#'   Embed(49:56, E = 5, tau = 1)
#' }
glla <- function(x, n.embed, tau, delta, order,
                 na.derivative = c("none", "kalman", "rowwise", "skipover")) {
  values <- from_python(py_call("glla", as.list(as.double(x)), n_embed = as_count(n.embed),
                                tau = as_count(tau), delta = delta, order = as_count(order),
                                na_derivative = eganet_choice(na.derivative, "na.derivative",
                                                              "none")))
  values <- matrix(nan_as_na(as.double(values)), ncol = order + 1)
  colnames(values) <- paste0("DerivOrd", 0:order)
  values
}

#' @rdname glla
#' @export
Embed <- function(x, E, tau) {
  values <- from_python(py_call("Embed", as.list(as.double(x)), E = as_count(E),
                                tau = as_count(tau)))
  matrix(nan_as_na(as.double(values)), ncol = E)
}
