#' The FindingEmo data set: download, load, check and prepare for evaluation
#'
#' FindingEmo annotates photographs of people in social scenes with valence,
#' arousal and one of Plutchik's 24 emotions. \code{download_findingemo_data()}
#' fetches images listed by the Python package 'findingemo-light' and writes a flat
#' folder (\code{annotations.csv}, \code{urls.json}, \code{metadata.json},
#' \code{images/}); it needs the network. The other functions work offline on such a
#' folder or on the package's own layout (\code{data/annotations_single.ann},
#' \code{data/dataset_urls_exploded.json}).
#'
#' @param target_dir Folder to download into.
#' @param max_images Download at most this many images (default all).
#' @param randomize Choose the \code{max_images} at random instead of the first ones.
#' @param skip_existing Do nothing when \code{target_dir} already holds a download.
#' @param force Download again even if it does.
#' @param data_dir A FindingEmo folder.
#' @param output_format \code{"dataframe"} (default) or \code{"list"} (annotations,
#'   \code{urls} and \code{metadata}).
#' @param python_path Accepted for transforEmotion scripts; not used (the Python of
#'   reticulate reads the files).
#' @param annotations Annotations data frame, e.g. from
#'   \code{load_findingemo_annotations()}.
#' @param predictions Data frame of predictions, one row per image, with
#'   \code{id_col} and \code{pred_col}; its other columns (e.g. \code{prob_*}) are
#'   kept.
#' @param id_col,truth_col,pred_col Image id (both tables), reference label
#'   (annotations) and predicted label (predictions) columns.
#' @param include_va Keep the annotations' \code{valence} and \code{arousal}.
#' @param check_images Also open a random sample of the downloaded images.
#' @param sample_size Images in that sample.
#' @param findingemo_emotions Character vector of Plutchik emotion names.
#'
#' @return \code{download_findingemo_data()}: a list \code{success},
#'   \code{skipped}, \code{target_dir}, \code{selected}, \code{image_count},
#'   \code{failed}, \code{annotations_count}.
#'   \code{load_findingemo_annotations()}: a data frame (or a list).
#'   \code{prepare_findingemo_evaluation()}: the joined rows with columns \code{id},
#'   \code{truth}, (\code{valence}, \code{arousal}), \code{pred} and the other
#'   prediction columns, ready for \code{\link{evaluate_emotions}}.
#'   \code{check_findingemo_quality()}: invisibly, a list \code{structure},
#'   \code{files_found}, \code{annotations_count}, \code{urls_count},
#'   \code{images_count}, \code{completeness} (percent) and \code{image_check};
#'   the report is printed.
#'   \code{map_to_emo8()}: the basic emotions (lower case; \code{NA} with a warning
#'   for names not on Plutchik's wheel).
#'
#' @section Differences from transforEmotion:
#' Without network (or with \code{HF_HUB_OFFLINE} / \code{PYBRIDGE_OFFLINE} set) the
#' download is an error of class \code{pybridge_download}, and without
#' 'findingemo-light' one of class \code{pybridge_missing_dependency}, instead of a
#' list with \code{success = FALSE}. Images whose site is gone are counted as failed;
#' there is no lookup in web archives. \code{prepare_findingemo_evaluation()} does
#' not guess another truth column when \code{truth_col} is missing: it is an error.
#' \code{map_to_emo8()} ignores case and gives lower-case labels.
#'
#' @name findingemo
#' @export
#' @examples
#' map_to_emo8(c("Serenity", "Rage", "Interest"))
#' \donttest{
#' if (reticulate::py_module_available("pybridge")) {
#'   try(download_findingemo_data(file.path(tempdir(), "findingemo"), max_images = 20))
#' }
#' }
download_findingemo_data <- function(target_dir, max_images = NULL, randomize = FALSE,
                                     skip_existing = TRUE, force = FALSE) {
  check_name(target_dir, "target_dir")
  check_flag(randomize, "randomize")
  check_flag(skip_existing, "skip_existing")
  check_flag(force, "force")
  if (!is.null(max_images)) max_images <- check_count(max_images, "max_images")
  result <- from_python(py_call("download_findingemo_data", path.expand(target_dir),
                                max_images = max_images, randomize = randomize,
                                skip_existing = skip_existing, force = force))
  if (isTRUE(result$skipped)) {
    message("FindingEmo data already in ", target_dir, " (force = TRUE downloads again)")
  } else {
    message(sprintf("FindingEmo: %d images in %s, %d could not be fetched",
                    result$image_count, target_dir, result$failed))
  }
  result
}

#' @rdname findingemo
#' @export
load_findingemo_annotations <- function(data_dir, output_format = c("dataframe", "list"),
                                        python_path = NULL) {
  check_name(data_dir, "data_dir")
  output_format <- match.arg(output_format)
  from_python(py_call("load_findingemo_annotations", path.expand(data_dir),
                      output_format = output_format))
}

#' @rdname findingemo
#' @export
prepare_findingemo_evaluation <- function(annotations, predictions, id_col = "image_id",
                                          truth_col = "emotion_label",
                                          pred_col = "predicted_emotion", include_va = TRUE) {
  if (!is.data.frame(annotations) || !is.data.frame(predictions)) {
    pybridge_abort("invalid_input", "`annotations` and `predictions` must be data frames.")
  }
  check_flag(include_va, "include_va")
  from_python(py_call("prepare_findingemo_evaluation", annotations, predictions,
                      id_col = id_col, truth_col = truth_col, pred_col = pred_col,
                      include_va = include_va))
}

#' @rdname findingemo
#' @export
check_findingemo_quality <- function(data_dir, check_images = FALSE, sample_size = 10) {
  check_name(data_dir, "data_dir")
  check_flag(check_images, "check_images")
  report <- from_python(py_call("check_findingemo_quality", path.expand(data_dir),
                                check_images = check_images,
                                sample_size = check_count(sample_size, "sample_size")))
  cat("FindingEmo data quality\n")
  cat(sprintf("  layout: %s\n  annotations: %d\n  URLs: %d\n  images: %d (%.1f%% of the URLs)\n",
              report$structure, report$annotations_count, report$urls_count,
              report$images_count, report$completeness))
  if (!is.null(report$image_check)) {
    cat(sprintf("  readable images: %d of %d sampled (%.1f%%)\n", report$image_check$readable,
                report$image_check$sample_size, report$image_check$readability_rate))
  }
  if (report$urls_count > 0 && report$completeness < 50) {
    cat("  Fewer than half of the images were downloaded: many URLs are gone.\n")
  }
  invisible(report)
}

#' @rdname findingemo
#' @export
map_to_emo8 <- function(findingemo_emotions) {
  if (!is.character(findingemo_emotions)) {
    pybridge_abort("invalid_input", "`findingemo_emotions` must be a character vector.")
  }
  if (length(findingemo_emotions) == 0) return(character(0))
  mapped <- from_python(py_call("map_to_emo8", as.list(findingemo_emotions)))
  as.character(simplify_column(mapped))
}
