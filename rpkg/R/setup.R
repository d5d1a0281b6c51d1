#' Install the pybridge Python package for R
#'
#' Makes the Python package \code{pybridge} importable by reticulate: creates (or
#' reuses) a Python environment, installs \code{pybridge} into it, checks that it
#' imports and reports what was done. Run it once per machine; \code{library(pybridge)}
#' itself never installs anything.
#'
#' Which Python is used:
#' \enumerate{
#'   \item If Python is already running in this R session (reticulate initialised it),
#'     that Python: it is the only one reticulate can use until R restarts.
#'   \item Otherwise, if the environment variable \code{RETICULATE_PYTHON} is set, that
#'     interpreter.
#'   \item Otherwise the environment \code{envname}, a virtualenv (default) or a conda
#'     environment (\code{method = "conda"}), created if it does not exist.
#' }
#' \code{pybridge} (and, for \code{setup_gpu_modules()}, its GPU extras) is installed
#' only if it cannot already be imported there, so a second call changes nothing.
#' Installation uses pip; \code{python_package} may name the package on the package
#' index (default \code{"pybridge"}, optionally with a version such as
#' \code{"pybridge==0.1.0"}), a local source folder or a wheel file, which is how offline
#' sites and tests install it. The function never asks questions, so it is safe in
#' scripts and non-interactive sessions.
#'
#' Environments made with another \code{envname} are found by later sessions when
#' \code{options(pybridge.envname = "<name>")} is set before the first pybridge call.
#'
#' @param envname Name (or path) of the virtualenv or conda environment to create or
#'   reuse. Ignored when Python is already initialised or \code{RETICULATE_PYTHON} is set.
#' @param python_package What to install: a package name with an optional version
#'   specifier, a local folder with the package sources, or a wheel file. Defaults to
#'   the option \code{pybridge.python_package}, else \code{"pybridge"}.
#' @param method \code{"virtualenv"} (default) or \code{"conda"}.
#' @param python Python interpreter used to create a new virtualenv, or the Python
#'   version for a new conda environment. \code{NULL} lets reticulate choose.
#' @param extras Optional extras of the Python package to install, e.g.
#'   \code{"openclip"} or \code{"quant"}.
#' @param pip_options Extra command-line options for pip, e.g.
#'   \code{c("--no-index", "--find-links", "/path/to/wheels")} offline.
#' @param ... Passed to \code{\link[reticulate]{virtualenv_create}} or
#'   \code{\link[reticulate]{conda_create}} when a new environment is made.
#'
#' @return Invisibly, a list of class \code{pybridge_setup} with \code{python} (the
#'   interpreter), \code{envname} (\code{NA} when an existing interpreter was used),
#'   \code{method}, \code{created} and \code{installed} (whether this call created the
#'   environment or installed packages), \code{version} (of the Python package) and
#'   \code{modules} (the Python modules checked).
#'
#' @section Differences from transforEmotion:
#' transforEmotion's \code{setup_modules()} always reinstalled its Python modules into
#' a conda environment; this one installs only what is missing, uses a virtualenv by
#' default, and uses \code{RETICULATE_PYTHON} or an already running Python when there is
#' one.
#'
#' @seealso \code{\link{setup_gpu_modules}}, \code{\link{setup_miniconda}}
#' @export
#' @examples
#' \dontrun{
#' setup_modules()                                   # from the package index
#' setup_modules(python_package = "~/src/pybridge") # from a local checkout
#' setup_modules()                                   # again: nothing to do
#' }
setup_modules <- function(envname = "pybridge",
                          python_package = getOption("pybridge.python_package", "pybridge"),
                          method = c("virtualenv", "conda"),
                          python = NULL,
                          extras = character(),
                          pip_options = character(),
                          ...) {
  method <- match.arg(method)
  if (!is.character(python_package) || length(python_package) != 1 || !nzchar(python_package)) {
    pybridge_abort("invalid_input",
                   "`python_package` must be a package name, a local folder or a wheel file.")
  }
  modules <- unique(c("pybridge", extra_modules(extras)))
  requirement <- python_requirement(python_package, extras)

  if (reticulate::py_available() || nzchar(Sys.getenv("RETICULATE_PYTHON"))) {
    report <- setup_existing_python(requirement, modules, pip_options)
  } else {
    report <- setup_environment(envname, method, python, requirement, modules,
                                pip_options, ...)
  }
  report$method <- if (is.na(report$envname)) NA_character_ else method
  report$modules <- modules
  report$version <- reticulate::py_to_r(
    reticulate::py_get_attr(reticulate::import("pybridge"), "__version__")
  )
  message(sprintf(
    "pybridge %s is ready in %s%s.%s",
    report$version, report$python,
    if (is.na(report$envname)) "" else sprintf(" (%s '%s')", method, report$envname),
    if (report$created || report$installed) "" else " Nothing was changed."
  ))
  invisible(structure(report, class = "pybridge_setup"))
}

#' @rdname setup_modules
#' @details \code{setup_gpu_modules()} does the same and also installs the Python
#'   extras for GPUs: \code{quant} (bitsandbytes and accelerate, for 4-bit
#'   quantised models such as \code{eva-8B}) and \code{openclip}. PyTorch from the
#'   package index already includes CUDA on Linux; for another CUDA version install
#'   the matching torch wheel first (see \url{https://pytorch.org/get-started/}).
#' @export
setup_gpu_modules <- function(envname = "pybridge",
                              python_package = getOption("pybridge.python_package", "pybridge"),
                              method = c("virtualenv", "conda"),
                              python = NULL,
                              pip_options = character(),
                              ...) {
  setup_modules(envname = envname, python_package = python_package, method = method,
                python = python, extras = c("quant", "openclip"),
                pip_options = pip_options, ...)
}

#' @rdname setup_modules
#' @details \code{setup_miniconda()} is kept so that transforEmotion scripts, whose
#'   quick start calls it, keep working: it is \code{setup_modules()} under another
#'   name and no longer installs Miniconda (pass \code{method = "conda"} to use conda).
#' @export
setup_miniconda <- function(...) {
  message("setup_miniconda() is an alias of setup_modules(), kept for transforEmotion ",
          "scripts; it does not install Miniconda.")
  setup_modules(...)
}

#' @export
print.pybridge_setup <- function(x, ...) {
  cat("pybridge Python set-up\n")
  cat("  python:   ", x$python, "\n", sep = "")
  if (!is.na(x$envname)) cat("  env:      ", x$envname, " (", x$method, ")\n", sep = "")
  cat("  version:  ", x$version, "\n", sep = "")
  cat("  created:  ", x$created, "   installed: ", x$installed, "\n", sep = "")
  invisible(x)
}

# Python modules that must import for each extra of the Python package.
extra_modules <- function(extras) {
  known <- list(quant = c("bitsandbytes", "accelerate"), openclip = "open_clip",
                siglip = c("sentencepiece", "google.protobuf"), dist = "distributed",
                r = "rpy2", youtube = "pytubefix")
  unlist(known[intersect(extras, names(known))], use.names = FALSE)
}

# pip requirement for the package plus extras: "pybridge[quant]>=0.1", "/src/pybridge[quant]".
python_requirement <- function(python_package, extras) {
  local <- file.exists(python_package)
  target <- if (local) normalizePath(python_package) else python_package
  if (length(extras) == 0) return(target)
  suffix <- sprintf("[%s]", paste(extras, collapse = ","))
  if (local) return(paste0(target, suffix))
  parts <- regmatches(target, regexec("^([A-Za-z0-9_.-]+)(.*)$", target))[[1]]
  paste0(parts[2], suffix, parts[3])
}

# Python already chosen (initialised, or RETICULATE_PYTHON): install into it if needed.
setup_existing_python <- function(requirement, modules, pip_options) {
  config <- reticulate::py_config()
  installed <- FALSE
  if (!all(vapply(modules, reticulate::py_module_available, logical(1)))) {
    message("Installing ", requirement, " into ", config$python, " ...")
    status <- system2(config$python,
                      c("-m", "pip", "install", pip_options, shQuote(requirement)))
    if (!identical(status, 0L)) {
      pybridge_abort("missing_dependency", sprintf(paste0(
        "pip could not install %s into %s (exit status %s); see pip's output above. ",
        "Unset RETICULATE_PYTHON (or restart R) to let setup_modules() create its own ",
        "environment instead."), requirement, config$python, status))
    }
    reticulate::py_run_string("import importlib; importlib.invalidate_caches()")
    installed <- TRUE
  }
  verify_modules(modules, config$python)
  list(python = config$python, envname = NA_character_, created = FALSE,
       installed = installed)
}

# No Python chosen yet: create or reuse `envname`, install if needed, then use it.
setup_environment <- function(envname, method, python, requirement, modules,
                              pip_options, ...) {
  created <- FALSE
  if (method == "conda") {
    conda <- tryCatch(reticulate::conda_binary(), error = function(e) NULL)
    if (is.null(conda)) {
      pybridge_abort("missing_dependency", paste0(
        "conda was not found. Install Miniconda with reticulate::install_miniconda() ",
        "or use setup_modules(method = \"virtualenv\")."))
    }
    if (!condaenv_exists_quietly(envname)) {
      reticulate::conda_create(envname, python_version = python, ...)
      created <- TRUE
    }
    interpreter <- reticulate::conda_python(envname)
  } else {
    if (!reticulate::virtualenv_exists(envname)) {
      reticulate::virtualenv_create(envname, python = python, ...)
      created <- TRUE
    }
    interpreter <- reticulate::virtualenv_python(envname)
  }
  installed <- FALSE
  if (!modules_importable(interpreter, modules)) {
    message("Installing ", requirement, " into '", envname, "' ...")
    tryCatch(
      if (method == "conda") {
        reticulate::conda_install(envname, requirement, pip = TRUE, pip_options = pip_options)
      } else {
        reticulate::virtualenv_install(envname, requirement, pip_options = pip_options)
      },
      error = function(e) {
        pybridge_abort("missing_dependency", sprintf(paste0(
          "pip could not install %s into the %s '%s' (%s); see pip's output above. ",
          "Offline, pass a local folder or wheel as `python_package` and ",
          "pip_options = c(\"--no-index\", \"--find-links\", <folder with wheels>)."),
          requirement, method, envname, conditionMessage(e)), call = NULL)
      })
    installed <- TRUE
  }
  if (method == "conda") {
    reticulate::use_condaenv(envname, required = TRUE)
  } else {
    reticulate::use_virtualenv(envname, required = TRUE)
  }
  verify_modules(modules, interpreter)
  list(python = interpreter, envname = envname, created = created, installed = installed)
}

# Checked in a child process, so that this session can still choose its Python.
modules_importable <- function(interpreter, modules) {
  code <- sprintf("import %s", paste(modules, collapse = ", "))
  status <- suppressWarnings(system2(interpreter, c("-c", shQuote(code)),
                                     stdout = FALSE, stderr = FALSE))
  identical(status, 0L)
}

verify_modules <- function(modules, interpreter) {
  missing <- modules[!vapply(modules, reticulate::py_module_available, logical(1))]
  if (length(missing) > 0) {
    pybridge_abort("missing_dependency", sprintf(
      "After installation, %s still cannot be imported in %s; check pip's output above.",
      paste(missing, collapse = ", "), interpreter))
  }
  invisible(TRUE)
}
