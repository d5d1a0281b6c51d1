# The tests run against the pybridge Python package of this checkout (installed in
# the Python that reticulate uses, e.g. RETICULATE_PYTHON=$(which python3) after
# `pip install -e .`), offline, with tiny random-weight models built by the tests.

# Before Python starts: no network, caches (including the user model registry) in a
# temporary folder, one thread per library on the 2-core CI machine.
local({
  home <- file.path(tempdir(), "pybridge-test-home")
  dir.create(home, showWarnings = FALSE, recursive = TRUE)
  Sys.setenv(
    HF_HUB_OFFLINE = "1", TRANSFORMERS_OFFLINE = "1",
    HF_HOME = file.path(home, "hf"), HF_HUB_CACHE = file.path(home, "hf", "hub"),
    HF_MODULES_CACHE = file.path(home, "hf", "modules"),
    PYBRIDGE_CACHE = file.path(home, "pybridge"),
    TOKENIZERS_PARALLELISM = "false", OMP_NUM_THREADS = "1", MPLBACKEND = "Agg"
  )
})

python_available <- function() {
  isTRUE(tryCatch(reticulate::py_module_available("pybridge"), error = function(e) FALSE))
}

# Without the Python package the tests cannot run. CI sets
# PYBRIDGE_R_TESTS_REQUIRE_PYTHON=true so that this is a failure there, not a skip.
skip_if_no_python <- function() {
  if (python_available()) return(invisible(TRUE))
  reason <- paste0("the Python package 'pybridge' is not importable by reticulate ",
                   "(set RETICULATE_PYTHON to a Python where it is installed)")
  if (nzchar(Sys.getenv("PYBRIDGE_R_TESTS_REQUIRE_PYTHON"))) stop(reason, call. = FALSE)
  testthat::skip(reason)
}

# Root of the checkout: PYBRIDGE_REPO_ROOT, else the folder above the imported
# pybridge package (an editable install).
repo_root <- function() {
  root <- Sys.getenv("PYBRIDGE_REPO_ROOT")
  if (!nzchar(root)) {
    package_file <- reticulate::import("pybridge")$`__file__`
    root <- dirname(dirname(package_file))
  }
  if (!file.exists(file.path(root, "tests", "helpers", "tiny_models.py"))) {
    stop("tests/helpers/tiny_models.py not found under ", root,
         "; set PYBRIDGE_REPO_ROOT to the pybridge checkout", call. = FALSE)
  }
  root
}

test_python <- function(module) {
  reticulate::import_from_path(module, path = repo_root(), convert = FALSE)
}

# Built once per test run.
fixtures <- new.env(parent = emptyenv())

tiny_clip_path <- function() {
  if (is.null(fixtures$tiny_clip)) {
    folder <- file.path(tempdir(), "tiny-clip")
    helpers <- test_python("tests.helpers.tiny_models")
    helpers$build_tiny_clip(reticulate::import("pathlib")$Path(folder), seed = 0L)
    fixtures$tiny_clip <- folder
  }
  fixtures$tiny_clip
}

# A photograph with one smiling face (scikit-image's astronaut, public domain),
# saved as PNG, plus a blank image without a face.
face_image_path <- function() {
  if (is.null(fixtures$face_image)) {
    path <- file.path(tempdir(), "astronaut.png")
    reticulate::py_run_string(sprintf(paste(
      "import skimage.data, PIL.Image",
      "PIL.Image.fromarray(skimage.data.astronaut()).save(r'%s')",
      "PIL.Image.new('RGB', (64, 48), (120, 120, 120)).save(r'%s')",
      sep = "\n"), path, file.path(tempdir(), "blank.png")))
    fixtures$face_image <- path
  }
  fixtures$face_image
}

blank_image_path <- function() {
  face_image_path()
  file.path(tempdir(), "blank.png")
}

reference_fixtures <- function() {
  path <- Sys.getenv("PYBRIDGE_REFERENCE_FIXTURES")
  if (!nzchar(path)) path <- file.path(repo_root(), "tests", "fixtures")
  if (!dir.exists(path)) stop("reference fixtures not found at ", path, call. = FALSE)
  path
}

# A 12-frame clip of the astronaut moving across a grey background, without a face
# in frames 3 and 7 (tests/helpers/media.py).
face_video_path <- function() {
  if (is.null(fixtures$face_video)) {
    path <- file.path(tempdir(), "face.mp4")
    media <- test_python("tests.helpers.media")
    media$make_face_video(reticulate::import("pathlib")$Path(path))
    fixtures$face_video <- path
  }
  fixtures$face_video
}

python_scores <- function(name, ...) {
  from_python(reticulate::py_call(reticulate::py_get_attr(pybridge_api(), name), ...))
}

# A minimal wheel `<distribution>-<version>-py3-none-any.whl` in `folder` whose module
# `pybridge` has the source `init` (stand-ins for the Python package, which needs torch,
# and for the unrelated project called 'pybridge' on the package index).
stand_in_wheel <- function(folder, distribution, version, init) {
  wheel <- file.path(folder, sprintf("%s-%s-py3-none-any.whl", distribution, version))
  info <- sprintf("%s-%s.dist-info", distribution, version)
  files <- list(
    "pybridge/__init__.py" = init,
    "METADATA" = sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n",
                         gsub("_", "-", distribution), version),
    "WHEEL" = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    "top_level.txt" = "pybridge\n",
    "RECORD" = ""
  )
  names(files) <- ifelse(grepl("/", names(files)), names(files), file.path(info, names(files)))
  zipfile <- reticulate::import("zipfile")
  archive <- zipfile$ZipFile(wheel, "w")
  for (name in names(files)) archive$writestr(name, files[[name]])
  archive$close()
  wheel
}
