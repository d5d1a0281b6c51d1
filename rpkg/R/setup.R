#' Install the pybridge Python package for R
#'
#' Makes the Python package of this project importable by reticulate: creates (or
#' reuses) a Python environment, installs the Python package into it, checks that the
#' module it imports is this project at the right version and reports what was done.
#' Run it once per machine; \code{library(pybridge)} itself never installs anything.
#'
#' What is installed: by default the wheel of the Python package that this R package
#' carries (in its folder \code{python-package}, put there when the R package was
#' built), which has the same version as the R package. pip then downloads only
#' third-party dependencies (torch, transformers, ...); the package index is never
#' asked for the Python package itself. On the package index the Python package is
#' called \code{pybridge-emotion}: the name \code{pybridge} there belongs to an
#' unrelated project, which is why \code{python_package = "pybridge"} is refused.
#' \code{python_package} may instead name a local source folder (a clone of the
#' repository), a wheel file, or \code{"pybridge-emotion"} with an optional version
#' such as \code{"pybridge-emotion==0.1.0"}.
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
#' Nothing is installed when the Python package (and, for \code{setup_gpu_modules()},
#' its GPU extras) can already be imported at the expected version (in
#' \code{envname}: from inside that environment), so a second call changes nothing.
#' Installation uses pip. The function never asks questions, so it is safe in
#' scripts and non-interactive sessions.
#'
#' Environments made with another \code{envname} are found by later sessions when
#' \code{options(pybridge.envname = "<name>")} is set before the first pybridge call.
#'
#' @param envname Name (or path) of the virtualenv or conda environment to create or
#'   reuse. Ignored when Python is already initialised or \code{RETICULATE_PYTHON} is set.
#' @param python_package What to install: \code{NULL} (the default, unless the option
#'   \code{pybridge.python_package} is set) for the wheel bundled with this R package;
#'   or a local folder with the package sources, a wheel file, or
#'   \code{"pybridge-emotion"} with an optional version specifier.
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
#'   environment or installed packages), \code{version} (of the Python package),
#'   \code{source} (what was or would have been installed), \code{seconds} (how long
#'   the call took) and \code{modules} (the Python modules checked).
#'
#' @section Errors:
#' Every failure is an R condition of class \code{pybridge_setup_error} (and
#' \code{pybridge_error}) whose message says what was found and what to do: the R
#' package carries no wheel and nothing is installed, pip failed (also class
#' \code{pybridge_missing_dependency}), \code{python_package = "pybridge"}, or the
#' module that imports as \code{pybridge} is another project or another version.
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
#' setup_modules()                                   # the Python package bundled here
#' setup_modules(python_package = "~/src/pybridge") # from a clone of the repository
#' setup_modules()                                   # again: nothing to do
#' }
setup_modules <- function(envname = "pybridge",
                          python_package = getOption("pybridge.python_package"),
                          method = c("virtualenv", "conda"),
                          python = NULL,
                          extras = character(),
                          pip_options = character(),
                          ...) {
  started <- proc.time()[["elapsed"]]
  method <- match.arg(method)
  source <- python_package_source(python_package)
  modules <- extra_modules(extras)

  report <- with_python_library_path(
    if (reticulate::py_available() || nzchar(Sys.getenv("RETICULATE_PYTHON"))) {
      setup_existing_python(source, extras, modules, pip_options)
    } else {
      setup_environment(envname, method, python, source, extras, modules, pip_options, ...)
    }
  )
  report$method <- if (is.na(report$envname)) NA_character_ else method
  report$modules <- c("pybridge", modules)
  report$source <- source$label
  report$seconds <- proc.time()[["elapsed"]] - started
  message(sprintf(
    "pybridge %s is ready in %s%s.%s",
    report$version, report$python,
    if (is.na(report$envname)) "" else sprintf(" (%s '%s')", method, report$envname),
    if (report$created || report$installed) {
      sprintf(" Installed from %s in %.0f s.", source$label, report$seconds)
    } else {
      " Nothing was changed."
    }
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
                              python_package = getOption("pybridge.python_package"),
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
  cat("  source:   ", x$source, "\n", sep = "")
  cat("  created:  ", x$created, "   installed: ", x$installed, "\n", sep = "")
  invisible(x)
}

# The Python package's name on the package index ("pybridge" there is another project).
PYTHON_DISTRIBUTION <- "pybridge-emotion"

# Folder of the R package that holds the bundled wheel (rpkg/tools/bundle-python-package.sh).
BUNDLE_FOLDER <- "python-package"

signal_setup_error <- function(message, kinds = character()) {
  pybridge_abort(c("setup_error", kinds), message, call = NULL)
}

# R puts its own and the system's library folders first in LD_LIBRARY_PATH
# (R_HOME/etc/ldpaths). A Python whose libpython is a shared library (pyenv, ...) then
# loads the system's libpython of the same minor version instead of its own, e.g. one
# without the ssl module, and pip cannot download anything. The Python processes of
# the set-up (virtualenv creation, pip, the probe) therefore run without those folders;
# the loader still finds system libraries there, after the interpreter's own.
with_python_library_path <- function(code) {
  old <- Sys.getenv("LD_LIBRARY_PATH", unset = NA)
  if (!is.na(old) && .Platform$OS.type == "unix") {
    Sys.setenv(LD_LIBRARY_PATH = python_library_path(old))
    on.exit(Sys.setenv(LD_LIBRARY_PATH = old), add = TRUE)
  }
  code
}

python_library_path <- function(path) {
  entries <- strsplit(path, ":", fixed = TRUE)[[1]]
  r_library <- normalizePath(file.path(R.home(), "lib"), mustWork = FALSE)
  added_by_r <- grepl("^/(usr/)?lib(32|64)?(/[^/]+-linux-gnu[^/]*)?/?$", entries) |
    normalizePath(entries, mustWork = FALSE) == r_library
  paste(entries[nzchar(entries) & !added_by_r], collapse = ":")
}

# Python modules that must import for each extra of the Python package.
extra_modules <- function(extras) {
  known <- list(quant = c("bitsandbytes", "accelerate"), openclip = "open_clip",
                siglip = c("sentencepiece", "google.protobuf"), dist = "distributed",
                r = "rpy2", youtube = "pytubefix")
  unlist(known[intersect(extras, names(known))], use.names = FALSE)
}

# The wheel this R package carries, e.g. .../python-package/pybridge_emotion-0.1.0-py3-none-any.whl,
# or NA when the R package was installed from a folder without one.
bundled_wheel <- function(version = as.character(utils::packageVersion("pybridge"))) {
  folder <- system.file(BUNDLE_FOLDER, package = "pybridge")
  if (!nzchar(folder)) return(NA_character_)
  pattern <- sprintf("^pybridge_emotion-%s-.*\\.whl$", gsub(".", "\\.", version, fixed = TRUE))
  wheels <- list.files(folder, pattern = pattern, full.names = TRUE)
  if (length(wheels) == 0) NA_character_ else normalizePath(wheels[1])
}

# What to install and which version to expect:
# list(target = path or requirement (NA: nothing to install from), version = expected
# version or NA (any version of this project), label = for messages).
python_package_source <- function(python_package) {
  if (is.null(python_package)) {
    version <- as.character(utils::packageVersion("pybridge"))
    wheel <- bundled_wheel(version)
    label <- if (is.na(wheel)) {
      sprintf("the wheel bundled with the R package (none found; R package %s)", version)
    } else {
      wheel
    }
    return(list(target = wheel, version = version, label = label))
  }
  if (!is.character(python_package) || length(python_package) != 1 ||
      is.na(python_package) || !nzchar(python_package)) {
    pybridge_abort("invalid_input", paste0(
      "`python_package` must be NULL (the Python package bundled with this R package), ",
      "a local folder, a wheel file or \"", PYTHON_DISTRIBUTION, "\" with a version."),
      call = NULL)
  }
  if (file.exists(python_package)) {
    path <- normalizePath(python_package)
    version <- NA_character_
    if (grepl("\\.whl$", path)) {
      version <- sub("^[^-]+-([^-]+)-.*$", "\\1", basename(path))
    }
    return(list(target = path, version = version, label = path))
  }
  name <- regmatches(python_package, regexec("^\\s*([A-Za-z0-9][A-Za-z0-9._-]*)", python_package))[[1]][2]
  if (!is.na(name) && normalise_distribution(name) == "pybridge") {
    signal_setup_error(sprintf(paste0(
      "`python_package = \"%s\"` would install the distribution called 'pybridge' from ",
      "the package index, which is an unrelated project. This project's Python package ",
      "is called '%s' there. Leave `python_package` unset to install the copy bundled ",
      "with this R package (version %s), or pass a clone of the repository or a wheel."),
      python_package, PYTHON_DISTRIBUTION, utils::packageVersion("pybridge")))
  }
  pinned <- regmatches(python_package, regexec("==\\s*([^,;\\s]+)\\s*$", python_package))[[1]]
  version <- if (length(pinned) == 2) pinned[2] else NA_character_
  list(target = python_package, version = version, label = python_package)
}

# PEP 503 normalised project name: "PyBridge_Emotion" -> "pybridge-emotion".
normalise_distribution <- function(name) tolower(gsub("[-_.]+", "-", name))

# pip requirement for the package plus extras: "pybridge-emotion[quant]>=0.1",
# "/src/pybridge[quant]", "/wheels/pybridge_emotion-0.1.0-py3-none-any.whl[quant]".
python_requirement <- function(target, extras) {
  if (length(extras) == 0) return(target)
  suffix <- sprintf("[%s]", paste(extras, collapse = ","))
  if (file.exists(target)) return(paste0(target, suffix))
  parts <- regmatches(target, regexec("^([A-Za-z0-9_.-]+)(.*)$", target))[[1]]
  paste0(parts[2], suffix, parts[3])
}

# Which pybridge module `interpreter` imports, checked in a child process so that this
# session can still choose its Python (inst/python/pybridge_r_probe.py). `own = TRUE`
# ignores PYTHONPATH (python -E): what the environment itself holds.
probe_python <- function(interpreter, modules = character(), own = FALSE) {
  script <- system.file("python", "pybridge_r_probe.py", package = "pybridge")
  output <- suppressWarnings(system2(interpreter, c(if (own) "-E", shQuote(script), modules),
                                     stdout = TRUE, stderr = FALSE))
  lines <- grep("^[a-z_]+=", output, value = TRUE)
  values <- sub("^[a-z_]+=", "", lines)
  names(values) <- sub("=.*$", "", lines)
  as.list(values)
}

# Is the probed module this project at `version` (NA: any), with every extra module,
# and (when `inside` is TRUE) installed inside the interpreter's environment?
probe_is_ready <- function(found, version, inside = FALSE) {
  identical(found$importable, "true") && identical(found$project, "true") &&
    (is.na(version) || identical(found$version, version)) &&
    identical(found$missing, "") && (!inside || identical(found$in_prefix, "true"))
}

describe_found <- function(found) {
  if (!identical(found$importable, "true")) {
    return(sprintf("`import pybridge` fails there (%s)",
                   if (is.null(found$error)) "the interpreter did not run" else found$error))
  }
  what <- if (identical(found$project, "true")) "this project's module" else
    "a module that is NOT this project (it has no PyBridgeError)"
  sprintf("`import pybridge` gives %s, version '%s', from %s%s", what, found$version,
          found$file,
          if (nzchar(found$distributions %||% "")) {
            sprintf(" (installed distributions: %s)", found$distributions)
          } else "")
}

# Stop before installing over a module of the same name that belongs to another project.
refuse_foreign_module <- function(found, interpreter, where) {
  if (identical(found$importable, "true") && !identical(found$project, "true")) {
    signal_setup_error(sprintf(paste0(
      "In %s, %s. It would clash with this project's module of the same name. Remove it ",
      "(%s -m pip uninstall pybridge), or use a new environment: ",
      "setup_modules(envname = \"<new name>\")."),
      where, describe_found(found), interpreter))
  }
}

# Install `source` (with `extras`) with the pip of `interpreter`.
pip_install <- function(interpreter, source, extras, pip_options, where) {
  if (is.na(source$target)) {
    signal_setup_error(sprintf(paste0(
      "This installation of the R package pybridge %s carries no Python wheel, and %s ",
      "has no matching Python package. Install the R package from a tarball built with ",
      "`bash rpkg/tools/build-r-package.sh`, or from a clone after ",
      "`bash rpkg/tools/bundle-python-package.sh`; or install from the clone directly: ",
      "setup_modules(python_package = \"/path/to/clone\")."),
      utils::packageVersion("pybridge"), where))
  }
  requirement <- python_requirement(source$target, extras)
  message("Installing ", requirement, " into ", where, " ...")
  status <- system2(interpreter, c("-m", "pip", "install", pip_options, shQuote(requirement)))
  if (!identical(as.integer(status), 0L)) {
    signal_setup_error(sprintf(paste0(
      "pip could not install %s into %s (exit status %s); see pip's output above. ",
      "Offline, pass pip_options = c(\"--no-index\", \"--find-links\", <folder with wheels>)."),
      requirement, where, status), kinds = "missing_dependency")
  }
}

# After installing: the module must be this project at the expected version.
verify_installation <- function(interpreter, source, modules, where, inside) {
  found <- probe_python(interpreter, modules, own = inside)
  if (!probe_is_ready(found, source$version, inside)) {
    expected <- if (is.na(source$version)) "this project" else
      sprintf("this project at version %s", source$version)
    missing <- if (nzchar(found$missing %||% "")) {
      sprintf(" Modules of the extras that do not import: %s.", found$missing)
    } else ""
    signal_setup_error(sprintf(paste0(
      "After installing %s into %s, %s, not %s.%s Run setup_modules() with a new ",
      "`envname`, or remove what is there (%s -m pip uninstall pybridge %s) and run it ",
      "again."),
      source$label, where, describe_found(found), expected, missing, interpreter,
      PYTHON_DISTRIBUTION))
  }
  found
}

# Python already chosen (initialised, or RETICULATE_PYTHON): install into it if needed.
setup_existing_python <- function(source, extras, modules, pip_options) {
  interpreter <- reticulate::py_config()$python
  where <- interpreter
  found <- probe_python(interpreter, modules)
  installed <- FALSE
  if (!probe_is_ready(found, source$version)) {
    refuse_foreign_module(found, interpreter, where)
    pip_install(interpreter, source, extras, pip_options, where)
    if (reticulate::py_available()) {
      reticulate::py_run_string("import importlib; importlib.invalidate_caches()")
    }
    installed <- TRUE
    found <- verify_installation(interpreter, source, modules, where, inside = FALSE)
  }
  list(python = interpreter, envname = NA_character_, created = FALSE,
       installed = installed, version = found$version)
}

# No Python chosen yet: create or reuse `envname`, install if needed, then use it.
setup_environment <- function(envname, method, python, source, extras, modules,
                              pip_options, ...) {
  created <- FALSE
  if (method == "conda") {
    conda <- tryCatch(reticulate::conda_binary(), error = function(e) NULL)
    if (is.null(conda)) {
      signal_setup_error(paste0(
        "conda was not found. Install Miniconda with reticulate::install_miniconda() ",
        "or use setup_modules(method = \"virtualenv\")."), kinds = "missing_dependency")
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
  where <- sprintf("the %s '%s'", method, envname)
  found <- probe_python(interpreter, modules, own = TRUE)
  installed <- FALSE
  # inside = TRUE: a module seen from outside the environment (system site-packages)
  # is not what this environment guarantees, so it is installed here.
  if (!probe_is_ready(found, source$version, inside = TRUE)) {
    if (identical(found$in_prefix, "true")) refuse_foreign_module(found, interpreter, where)
    pip_install(interpreter, source, extras, pip_options, where)
    installed <- TRUE
    found <- verify_installation(interpreter, source, modules, where, inside = TRUE)
  }
  if (method == "conda") {
    reticulate::use_condaenv(envname, required = TRUE)
  } else {
    reticulate::use_virtualenv(envname, required = TRUE)
  }
  list(python = interpreter, envname = envname, created = created, installed = installed,
       version = found$version)
}
