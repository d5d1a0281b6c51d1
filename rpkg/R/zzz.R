.onLoad <- function(libname, pkgname) {
  # Nothing is installed or started here. The delayed import tells reticulate that
  # this package needs the Python module "pybridge", so that when Python starts it
  # prefers an environment where pybridge is installed; the modules themselves are
  # imported on first use by pybridge_api().
  reticulate::import("pybridge", delay_load = TRUE)
  .python$glue_path <- system.file("python", package = pkgname, lib.loc = libname)
  .python$api <- NULL
}

# Before Python starts, select the environment made by setup_modules() unless the
# user chose a Python (RETICULATE_PYTHON, use_python(), ...).
prefer_setup_environment <- function() {
  if (nzchar(Sys.getenv("RETICULATE_PYTHON")) || reticulate::py_available()) {
    return(invisible(NULL))
  }
  envname <- getOption("pybridge.envname", "pybridge")
  if (reticulate::virtualenv_exists(envname)) {
    reticulate::use_virtualenv(envname, required = FALSE)
  } else if (condaenv_exists_quietly(envname)) {
    reticulate::use_condaenv(envname, required = FALSE)
  }
  invisible(NULL)
}

# reticulate 1.28 does not export condaenv_exists(); conda_list() fails without conda.
condaenv_exists_quietly <- function(envname) {
  tryCatch(envname %in% reticulate::conda_list()$name, error = function(e) FALSE)
}
