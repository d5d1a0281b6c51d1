#' Image embeddings of faces
#'
#' L2-normalised CLIP image embeddings of the face in each image (the same face
#' detection and crop as \code{\link{image_scores}}), e.g. to train a probe with
#' \code{\link{train_probe}} or to map images.
#'
#' @inheritParams image_scores
#' @param ... Further arguments for the Python function
#'   \code{pybridge.image_embeddings}: \code{batch_size}, \code{device},
#'   \code{precision} (as in \code{\link{image_scores}}), ...
#' @return A \code{data.frame} with the columns of \code{\link{image_scores}} up to
#'   \code{reason}, then \code{e0}, \code{e1}, ...; rows without a face have \code{NA}
#'   embeddings. The attribute \code{"provenance"} records the model, so that a probe
#'   trained on these embeddings checks that it is applied to the same model's.
#' @seealso \code{\link{train_probe}}
#' @export
#' @examples
#' \donttest{
#' if (reticulate::py_module_available("pybridge")) {
#'   try(image_embeddings(c("face1.jpg", "face2.jpg")))
#' }
#' }
image_embeddings <- function(image, model = "oai-base", local_model_path = NULL,
                             face_selection = "largest", detector = "mtcnn",
                             face_threshold = NULL, ...) {
  images <- if (length(image) == 1) image else as.list(image)
  from_python(py_call("image_embeddings", images, model = model,
                      local_model_path = expand_path(local_model_path),
                      face_selection = face_selection, detector = detector,
                      face_threshold = face_threshold, ...))
}

#' Train an emotion probe on CLIP image embeddings
#'
#' Trains a small classifier (logistic regression or a multilayer perceptron) on the
#' CLIP embeddings of labelled faces. With a few hundred labelled faces this is
#' usually far more accurate than zero-shot scoring. Use the probe with
#' \code{predict()}, or as \code{scorer} in \code{\link{image_scores}} and
#' \code{\link{video_scores}}, which then give the probe's classes as columns.
#'
#' @param images Image paths, or a data frame from \code{\link{image_embeddings}}.
#' @param labels The class of each image (character or factor).
#' @param model,local_model_path The CLIP model whose embeddings are used.
#' @param classifier \code{"logistic"} (default) or \code{"mlp"}.
#' @param face_selection,detector,face_threshold As in \code{\link{image_scores}}.
#' @param ... Further arguments for \code{pybridge.EmotionProbe}: \code{C},
#'   \code{hidden_layer_sizes}, \code{zero_shot_init} (start from the zero-shot text
#'   embeddings of the class names), \code{random_state}, \code{precision} (of the
#'   embedding model, as in \code{\link{image_scores}}), ...
#' @return An object of class \code{pybridge_probe}.
#' @seealso \code{\link{predict.pybridge_probe}}, \code{\link{save_probe}}
#' @export
#' @examples
#' \donttest{
#' if (reticulate::py_module_available("pybridge")) {
#'   try({
#'     probe <- train_probe(c("a.jpg", "b.jpg", "c.jpg", "d.jpg"),
#'                          c("happy", "sad", "happy", "sad"))
#'     predict(probe, "e.jpg", type = "prob")
#'   })
#' }
#' }
train_probe <- function(images, labels, model = "oai-base", local_model_path = NULL,
                        classifier = c("logistic", "mlp"), face_selection = "largest",
                        detector = "mtcnn", face_threshold = NULL, ...) {
  classifier <- match.arg(classifier)
  probe <- py_call("EmotionProbe", model = model,
                   local_model_path = expand_path(local_model_path),
                   classifier = classifier, face_selection = face_selection,
                   detector = detector, face_threshold = face_threshold, ...)
  inputs <- if (is.character(images) && length(images) == 1) list(images) else images
  py_call("fit", inputs, as.list(as.character(labels)), .object = probe)
  structure(list(python = probe), class = "pybridge_probe")
}

#' Predict with an emotion probe
#'
#' @param object A probe from \code{\link{train_probe}} or \code{\link{load_probe}}.
#' @param newdata Image paths, or a data frame from \code{\link{image_embeddings}}.
#' @param type \code{"class"} (the most likely class of each image) or \code{"prob"}
#'   (a data frame with one probability column per class).
#' @param ... Unused.
#' @return A character vector or a data frame.
#' @export
predict.pybridge_probe <- function(object, newdata, type = c("class", "prob"), ...) {
  type <- match.arg(type)
  inputs <- if (is.character(newdata) && length(newdata) == 1) list(newdata) else newdata
  method <- if (type == "class") "predict" else "predict_proba"
  from_python(py_call(method, inputs, .object = object$python))
}

#' @export
print.pybridge_probe <- function(x, ...) {
  cat("pybridge emotion probe\n")
  cat(reticulate::py_str(x$python), "\n")
  invisible(x)
}

#' Save and load an emotion probe
#'
#' A probe is saved as one \code{.npz} file holding its arrays and JSON metadata
#' (model id and revision, classes), never as a pickle, so a probe file from someone
#' else cannot run code. Applying a loaded probe to embeddings of another model is
#' an error of class \code{pybridge_model_mismatch}.
#'
#' @param probe A probe from \code{\link{train_probe}}.
#' @param path File to write (\code{.npz} is appended when missing) or read.
#' @return \code{save_probe()}: the file written, invisibly. \code{load_probe()}: the
#'   probe.
#' @export
save_probe <- function(probe, path) {
  if (!inherits(probe, "pybridge_probe")) {
    pybridge_abort("invalid_input", "`probe` must be a probe from train_probe().")
  }
  written <- py_call("save", path.expand(path), .object = probe$python)
  invisible(reticulate::py_str(written))
}

#' @rdname save_probe
#' @export
load_probe <- function(path) {
  probe_class <- reticulate::py_get_attr(pybridge_api(), "EmotionProbe")
  probe <- py_call("load", path.expand(path), .object = probe_class)
  structure(list(python = probe), class = "pybridge_probe")
}
