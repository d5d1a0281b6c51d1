test_that("setup_modules() uses the running Python and a second call changes nothing", {
  skip_if_no_python()
  first <- setup_modules()
  expect_s3_class(first, "pybridge_setup")
  expect_false(first$installed)
  expect_false(first$created)
  expect_identical(first$modules, "pybridge")
  version <- reticulate::import("pybridge")$`__version__`
  expect_identical(first$version, version)
  expect_identical(first$python, reticulate::py_config()$python)

  expect_message(second <- setup_modules(), "Nothing was changed")
  timing <- c("seconds")
  expect_identical(unclass(second)[setdiff(names(second), timing)],
                   unclass(first)[setdiff(names(first), timing)])
})

test_that("setup_miniconda() is an alias of setup_modules() with a note", {
  skip_if_no_python()
  expect_message(report <- setup_miniconda(), "alias of setup_modules")
  expect_false(report$installed)
})

test_that("setup_gpu_modules() asks for the GPU extras' modules", {
  expect_identical(python_requirement("pybridge-emotion", c("quant", "openclip")),
                   "pybridge-emotion[quant,openclip]")
  expect_identical(python_requirement("pybridge-emotion>=0.1", "quant"),
                   "pybridge-emotion[quant]>=0.1")
  folder <- normalizePath(tempdir())
  expect_identical(python_requirement(tempdir(), "quant"), paste0(folder, "[quant]"))
  expect_identical(extra_modules(c("quant", "openclip")),
                   c("bitsandbytes", "accelerate", "open_clip"))
})

test_that("setup_modules() rejects a bad python_package and method", {
  expect_error(setup_modules(python_package = c("a", "b")), class = "pybridge_invalid_input")
  expect_error(setup_modules(method = "pip"), "should be one of")
})

test_that("setup_modules() never asks the package index for the unrelated 'pybridge'", {
  for (name in c("pybridge", "PyBridge==1.0.1", "pybridge[quant]", "pybridge >= 1")) {
    expect_error(setup_modules(python_package = name), class = "pybridge_setup_error")
  }
  error <- tryCatch(setup_modules(python_package = "pybridge"), error = identity)
  expect_s3_class(error, "pybridge_error")
  expect_match(conditionMessage(error), "unrelated project", fixed = TRUE)
  expect_match(conditionMessage(error), "'pybridge-emotion'", fixed = TRUE)
  expect_identical(normalise_distribution("PyBridge_Emotion"), "pybridge-emotion")
})

test_that("by default setup_modules() installs the wheel of the R package's version", {
  source <- python_package_source(NULL)
  version <- as.character(utils::packageVersion("pybridge"))
  expect_identical(source$version, version)
  wheel <- bundled_wheel(version)
  skip_if(is.na(wheel), "installed from a folder without the bundled wheel")
  expect_identical(source$target, wheel)
  expect_identical(basename(wheel), sprintf("pybridge_emotion-%s-py3-none-any.whl", version))
  expect_identical(python_package_source(wheel)$version, version)
  expect_identical(python_package_source("pybridge-emotion==0.0.7")$version, "0.0.7")
})

test_that("library(pybridge) starts no Python and installs nothing", {
  script <- tempfile(fileext = ".R")
  writeLines(c(
    "suppressPackageStartupMessages(library(pybridge))",
    "cat(reticulate::py_available(), '\\n')"
  ), script)
  output <- system2(file.path(R.home("bin"), "Rscript"), script, stdout = TRUE,
                    env = sprintf("R_LIBS=%s", paste(.libPaths(), collapse = .Platform$path.sep)))
  expect_identical(trimws(output[length(output)]), "FALSE")
})

test_that("setup_modules() creates a virtualenv, installs a local wheel, and is idempotent", {
  skip_if_no_python()
  # A minimal stand-in wheel for the Python package (the real one needs torch):
  # what is tested is the environment handling, not the package.
  wheels <- file.path(tempdir(), "wheels")
  dir.create(wheels, showWarnings = FALSE)
  wheel <- stand_in_wheel(wheels, "pybridge_emotion", "9.9.9",
                          "__version__ = '9.9.9'\nclass PyBridgeError(Exception): pass\n")
  envs <- file.path(tempdir(), "virtualenvs")
  python <- reticulate::py_config()$python
  reports <- callr::r(function(envs, wheel, python) {
    Sys.unsetenv("RETICULATE_PYTHON")
    Sys.setenv(WORKON_HOME = envs, PIP_NO_INDEX = "1")
    library(pybridge)
    first <- suppressMessages(setup_modules(
      "pybridge-test", python_package = wheel, python = python,
      pip_options = c("--no-deps", "--no-index"), packages = FALSE))
    second <- suppressMessages(setup_modules("pybridge-test", python_package = wheel))
    list(first = unclass(first), second = unclass(second),
         used = reticulate::py_config()$python)
  }, args = list(envs = envs, wheel = wheel, python = python))
  expect_true(reports$first$created)
  expect_true(reports$first$installed)
  expect_identical(reports$first$version, "9.9.9")
  expect_identical(reports$first$envname, "pybridge-test")
  expect_identical(reports$first$method, "virtualenv")
  expect_match(reports$first$python, "pybridge-test", fixed = TRUE)
  expect_identical(normalizePath(reports$used), normalizePath(reports$first$python))
  # second call: Python is running in the environment; nothing is created or installed
  expect_false(reports$second$created)
  expect_false(reports$second$installed)
  expect_identical(reports$second$version, "9.9.9")

  # a new session finds the environment and installs nothing
  again <- callr::r(function(envs, wheel) {
    Sys.unsetenv("RETICULATE_PYTHON")
    Sys.setenv(WORKON_HOME = envs, PIP_NO_INDEX = "1")
    library(pybridge)
    unclass(suppressMessages(setup_modules("pybridge-test", python_package = wheel)))
  }, args = list(envs = envs, wheel = wheel))
  expect_false(again$created)
  expect_false(again$installed)
  expect_identical(again$envname, "pybridge-test")
  expect_identical(again$python, reports$first$python)
})

test_that("setup_modules() stops with what it found when the module is another project", {
  skip_if_no_python()
  # A distribution named 'pybridge' that is not this project (like the one on the
  # package index): installed, it must be reported, not accepted.
  wheels <- file.path(tempdir(), "decoy-wheels")
  dir.create(wheels, showWarnings = FALSE)
  decoy <- stand_in_wheel(wheels, "pybridge", "99.0", "print('decoy imported')\n")
  envs <- file.path(tempdir(), "virtualenvs")
  python <- reticulate::py_config()$python
  outcome <- callr::r(function(envs, decoy, python) {
    Sys.unsetenv("RETICULATE_PYTHON")
    Sys.setenv(WORKON_HOME = envs, PIP_NO_INDEX = "1")
    library(pybridge)
    first <- tryCatch(suppressMessages(setup_modules(
      "pybridge-decoy", python_package = decoy, python = python,
      pip_options = c("--no-deps", "--no-index"), packages = FALSE)), error = identity)
    # a second call finds the foreign module inside the environment and refuses to
    # install over it
    second <- tryCatch(suppressMessages(setup_modules("pybridge-decoy", python_package = decoy)),
                       error = identity)
    list(first = list(class = class(first), message = conditionMessage(first)),
         second = list(class = class(second), message = conditionMessage(second)))
  }, args = list(envs = envs, decoy = decoy, python = python))
  expect_true("pybridge_setup_error" %in% outcome$first$class)
  expect_true("pybridge_error" %in% outcome$first$class)
  expect_match(outcome$first$message, "NOT this project", fixed = TRUE)
  expect_match(outcome$first$message, "pybridge 99.0", fixed = TRUE)
  expect_match(outcome$first$message, "pip uninstall pybridge", fixed = TRUE)
  expect_true("pybridge_setup_error" %in% outcome$second$class)
  expect_match(outcome$second$message, "would clash with this project's module", fixed = TRUE)
})

test_that("Python processes of the set-up do not see R's library folders first", {
  r_library <- file.path(R.home(), "lib")
  path <- paste(r_library, "/usr/lib/x86_64-linux-gnu", "/opt/cuda/lib64", "/lib64", sep = ":")
  expect_identical(python_library_path(path), "/opt/cuda/lib64")
  expect_identical(python_library_path(""), "")
  before <- Sys.getenv("LD_LIBRARY_PATH", unset = NA)
  Sys.setenv(LD_LIBRARY_PATH = path)
  seen <- with_python_library_path(Sys.getenv("LD_LIBRARY_PATH"))
  expect_identical(seen, "/opt/cuda/lib64")
  expect_identical(Sys.getenv("LD_LIBRARY_PATH"), path)
  if (is.na(before)) Sys.unsetenv("LD_LIBRARY_PATH") else Sys.setenv(LD_LIBRARY_PATH = before)
})
