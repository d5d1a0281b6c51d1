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
  expect_identical(unclass(second), unclass(first))
})

test_that("setup_miniconda() is an alias of setup_modules() with a note", {
  skip_if_no_python()
  expect_message(report <- setup_miniconda(), "alias of setup_modules")
  expect_false(report$installed)
})

test_that("setup_gpu_modules() asks for the GPU extras' modules", {
  expect_identical(python_requirement("pybridge", c("quant", "openclip")),
                   "pybridge[quant,openclip]")
  expect_identical(python_requirement("pybridge>=0.1", "quant"), "pybridge[quant]>=0.1")
  folder <- normalizePath(tempdir())
  expect_identical(python_requirement(tempdir(), "quant"), paste0(folder, "[quant]"))
  expect_identical(extra_modules(c("quant", "openclip")),
                   c("bitsandbytes", "accelerate", "open_clip"))
})

test_that("setup_modules() rejects a bad python_package and method", {
  expect_error(setup_modules(python_package = c("a", "b")), class = "pybridge_invalid_input")
  expect_error(setup_modules(method = "pip"), "should be one of")
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
  wheel <- file.path(wheels, "pybridge-9.9.9-py3-none-any.whl")
  reticulate::py_run_string(sprintf(paste(
    "import zipfile",
    "files = {'pybridge/__init__.py': '__version__ = \"9.9.9\"\\n',",
    "  'pybridge-9.9.9.dist-info/METADATA': 'Metadata-Version: 2.1\\nName: pybridge\\nVersion: 9.9.9\\n',",
    "  'pybridge-9.9.9.dist-info/WHEEL': 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',",
    "  'pybridge-9.9.9.dist-info/RECORD': ''}",
    "with zipfile.ZipFile(r'%s', 'w') as archive:",
    "    for name, text in files.items():",
    "        archive.writestr(name, text)",
    sep = "\n"), wheel))
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
