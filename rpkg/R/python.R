# The bridge to Python. Every exported function reaches the pybridge Python API
# through py_call(), which converts errors and warnings into R conditions.
#
# Data cross as plain lists, dicts and scalars: reticulate 1.28 cannot convert
# NumPy >= 2 arrays, and it turns NA into "NA", TRUE or -2147483648. to_python()
# and from_python() tag matrices and data frames, which the glue module
# (inst/python/pybridge_r_glue.py) rebuilds on the other side.

# Module handles, filled on first use by pybridge_api().
.python <- new.env(parent = emptyenv())

pybridge_api <- function() {
  if (is.null(.python$api)) {
    if (!reticulate::py_available()) prefer_setup_environment()
    glue <- tryCatch(
      reticulate::import_from_path("pybridge_r_glue", path = .python$glue_path,
                                   convert = FALSE),
      error = function(e) NULL)
    if (!is.null(glue)) glue$isolate_torch_blas()  # before anything imports torch
    api <- if (is.null(glue)) NULL else glue$import_pybridge()
    if (is.null(api) || inherits(api, "python.builtin.NoneType")) {
      python <- tryCatch(reticulate::py_config()$python, error = function(e) "none found")
      pybridge_abort(
        "missing_dependency",
        sprintf(paste0(
          "The Python module 'pybridge' cannot be imported by the Python that ",
          "reticulate uses (%s). Run setup_modules() once to install it (the ",
          "distribution 'pybridge-emotion' bundled with this R package), or set ",
          "RETICULATE_PYTHON to a Python where it is installed, then restart R."
        ), python),
        call = NULL
      )
    }
    .python$glue <- glue
    .python$api <- api
  }
  .python$api
}

python_glue <- function() {
  pybridge_api()
  .python$glue
}

# Call `name` (a pybridge public function, or a method of `.object`) with R
# arguments. Named arguments become keyword arguments; NULL becomes None. Returns
# the Python value unconverted (see from_python()).
py_call <- function(name, ..., .object = NULL, .call = sys.call(-1)) {
  force(.call)
  target <- if (is.null(.object)) pybridge_api() else .object
  arguments <- lapply(list(...), to_python)
  keys <- names(arguments)
  if (is.null(keys)) keys <- rep("", length(arguments))
  positional <- unname(arguments[!nzchar(keys)])
  keywords <- arguments[nzchar(keys)]
  if (length(keywords) == 0) keywords <- reticulate::dict()
  outcome <- python_glue()$call(target, name, positional, keywords)
  for (message in reticulate::py_to_r(outcome$warnings)) {
    warning(warningCondition(message, class = "pybridge_warning", call = .call))
  }
  error <- reticulate::py_to_r(outcome$error)
  if (!is.null(error)) {
    kinds <- unlist(error$kinds)
    if (length(kinds) == 0) {
      stop(errorCondition(
        sprintf("%s: %s", error$type, error$message),
        class = "pybridge_python_exception", call = .call, python_type = error$type
      ))
    }
    pybridge_abort(kinds, error$message, call = .call, python_type = error$type)
  }
  outcome$value
}

# Signal a pybridge condition. `kinds` are pybridge error kinds, most specific
# first; the base kind "error" gives the class "pybridge_error".
pybridge_abort <- function(kinds, message, call = sys.call(-1), ...) {
  classes <- unique(c(paste0("pybridge_", kinds), "pybridge_error"))
  stop(errorCondition(message, class = classes, call = call, ...))
}

# R value -> plain data for the glue module's from_r().
to_python <- function(x) {
  if (is.null(x) || inherits(x, "python.builtin.object")) return(x)
  if (inherits(x, "pybridge_probe")) return(x$python)
  if (is.data.frame(x)) {
    columns <- lapply(x, function(column) vector_to_python(column))
    spec <- list(names = as.list(names(x)), columns = unname(columns))
    if (!is.null(attr(x, "provenance"))) spec$provenance <- to_python(attr(x, "provenance"))
    return(list(`__frame__` = spec))
  }
  if (is.atomic(x) && length(dim(x)) >= 2) {
    return(list(`__array__` = list(data = vector_to_python(as.vector(x)),
                                   dim = as.list(dim(x)))))
  }
  if (is.factor(x)) x <- as.character(x)
  if (is.atomic(x)) {
    if (length(x) == 1) return(if (is.na(x) && !is.double(x)) NULL else x)
    return(vector_to_python(x))
  }
  if (is.list(x)) {
    converted <- lapply(x, to_python)
    if (is.null(names(x))) return(unname(converted))
    return(converted)
  }
  x
}

# Atomic vector -> list of scalars, NA -> None (numeric NA stays NaN).
vector_to_python <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  values <- as.list(x)
  if (!is.double(x)) values[is.na(x)] <- list(NULL)
  values
}

# Python value -> R: DataFrames become data.frames (column names exactly as in
# Python, attribute "provenance" from their attrs), arrays vectors or matrices.
from_python <- function(value) {
  plain <- reticulate::py_to_r(python_glue()$to_r(value))
  from_plain(plain)
}

from_plain <- function(x) {
  if (!is.list(x) || inherits(x, "python.builtin.object")) return(x)
  if (identical(names(x), "__frame__")) return(frame_from_plain(x[[1]]))
  if (identical(names(x), "__array__")) return(array_from_plain(x[[1]]))
  converted <- lapply(x, from_plain)
  attributes(converted) <- attributes(x)
  converted
}

frame_from_plain <- function(spec) {
  types <- unlist(spec$types)
  values <- Map(function(column, type) {
    column <- simplify_column(column)
    switch(type,
      double = as.double(column),
      integer = as.integer(column),
      logical = as.logical(column),
      as.character(column)
    )
  }, spec$columns, types)
  names(values) <- as.character(unlist(spec$names))
  result <- as.data.frame(values, check.names = FALSE, stringsAsFactors = FALSE)
  if (length(values) == 0) result <- data.frame()
  provenance <- spec$attrs$pybridge
  if (!is.null(provenance)) attr(result, "provenance") <- from_plain(provenance)
  result
}

array_from_plain <- function(spec) {
  data <- simplify_column(spec$data)
  dim <- as.integer(unlist(spec$dim))
  if (length(dim) <= 1) return(data)
  array(data, dim = dim)
}

# A Python list arrives as an atomic vector, or as a list when it holds None.
simplify_column <- function(column) {
  if (!is.list(column)) return(column)
  column[vapply(column, is.null, logical(1))] <- NA
  unlist(column)
}

# Character vector -> Python list, also for a single label (a length-1 vector
# would otherwise arrive as a plain string).
as_py_list <- function(x) {
  if (is.null(x)) return(NULL)
  as.list(x)
}

check_labels <- function(classes, allow_null = FALSE) {
  if (is.null(classes) && allow_null) return(invisible(NULL))
  if (!is.character(classes) || anyNA(classes)) {
    pybridge_abort(
      c("invalid_labels", "invalid_input"),
      "`classes` must be a character vector of labels without NA, e.g. c(\"happy\", \"sad\").",
      call = sys.call(-1)
    )
  }
  invisible(classes)
}

check_flag <- function(x, name) {
  if (!is.logical(x) || length(x) != 1 || is.na(x)) {
    pybridge_abort(
      "invalid_input", sprintf("`%s` must be TRUE or FALSE.", name),
      call = sys.call(-1)
    )
  }
  invisible(x)
}

check_count <- function(x, name) {
  if (!is.numeric(x) || length(x) != 1 || is.na(x) || x != round(x)) {
    pybridge_abort(
      "invalid_input", sprintf("`%s` must be a single whole number, not %s.", name,
                               paste(format(x), collapse = ", ")),
      call = sys.call(-1)
    )
  }
  as.integer(x)
}

# Whole numbers typed in R as doubles (`n_steps = 50`) -> integers, which Python's
# count checks require. Anything else is passed unchanged, for Python to reject
# with its own message.
as_count <- function(x) {
  if (is.double(x) && length(x) == 1 && !is.na(x) && x == round(x) &&
      abs(x) <= .Machine$integer.max) {
    return(as.integer(x))
  }
  x
}
