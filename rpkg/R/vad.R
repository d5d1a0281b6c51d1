#' Valence, arousal and dominance of faces in images and video
#'
#' Scores each face on three dimensions, each a pair of opposite poles described in
#' words: valence (pleasant vs unpleasant), arousal (energetic vs calm) and dominance
#' (in control vs controlled). A face's score on a dimension is the zero-shot
#' probability of the high pole against the low pole. The six descriptions are
#' scored with one encoding of each face.
#'
#' @param input Image path(s) or folder(s), or video path(s) or http(s) URL(s).
#' @param input_type \code{"auto"} (default: files with an image extension and
#'   folders are images, anything else video), \code{"image"} or \code{"video"}.
#'   Text is not supported.
#' @param dimensions Any of \code{"valence"}, \code{"arousal"}, \code{"dominance"}
#'   (default all three), in the order of the output columns.
#' @param label_type \code{"definitional"} (default: descriptions that say what each
#'   pole means), \code{"simple"} (one word per pole) or \code{"custom"}.
#' @param custom_labels For \code{label_type = "custom"}: a list such as
#'   \code{list(valence = list(positive = "...", negative = "..."),
#'   arousal = list(high = "...", low = "..."), dominance = list(high = "...", low = "..."))}
#'   with at least the requested dimensions.
#' @param model A zero-shot model alias or Hugging Face id; \code{"auto"} (default)
#'   is \code{"oai-base"}.
#' @param ... Further arguments for \code{\link{image_scores}} or
#'   \code{\link{video_scores}}: \code{local_model_path}, \code{face_selection},
#'   and for video \code{nframes}, \code{ffreq}, \code{uniform}, \code{start},
#'   \code{end}, ...
#'
#' @return The data frame of \code{\link{image_scores}} (one row per image) or
#'   \code{\link{video_scores}} (one row per sampled frame) with one column per
#'   dimension instead of the label columns: the probability (0 to 1) of the high
#'   pole. Rows without a face have \code{NA}.
#'
#' @section Differences from transforEmotion:
#' Text input is not supported. The result keeps the identifier and face columns of
#' \code{image_scores()} instead of only \code{input_id}, video gives one row per
#' sampled frame, and the pole descriptions are pybridge's own.
#'
#' @seealso \code{\link{map_discrete_to_vad}}
#' @export
#' @examples
#' img <- system.file("extdata", "astronaut.jpg", package = "pybridge")
#' \donttest{
#' if (reticulate::py_module_available("pybridge")) {
#'   try(vad_scores(img, dimensions = c("valence", "arousal")))
#' }
#' }
vad_scores <- function(input, input_type = "auto",
                       dimensions = c("valence", "arousal", "dominance"),
                       label_type = "definitional", custom_labels = NULL, model = "auto", ...) {
  if (missing(input) || !is.character(input) || length(input) == 0 || anyNA(input)) {
    pybridge_abort("invalid_input",
                   "`input` must be one or more image or video paths (a character vector).")
  }
  if (!is.character(dimensions) || anyNA(dimensions)) {
    pybridge_abort("invalid_input", "`dimensions` must be a character vector.")
  }
  if (identical(model, "auto")) model <- "oai-base"
  arguments <- list(...)
  if (!is.null(arguments$local_model_path)) {
    arguments$local_model_path <- expand_path(arguments$local_model_path)
  }
  scores <- do.call(py_call, c(list("vad_scores", as.list(input), input_type = input_type,
                                    dimensions = as.list(dimensions), label_type = label_type,
                                    custom_labels = custom_labels, model = model),
                               lapply(arguments, as_count)))
  from_python(scores)
}

#' Map discrete emotion scores to valence, arousal and dominance
#'
#' Looks each emotion label up in a VAD lexicon (words rated on valence, arousal and
#' dominance, such as the NRC VAD Lexicon) and gives every row the score-weighted
#' mean of its labels' ratings, or the ratings of its top label.
#'
#' @param results Output of \code{\link{image_scores}} or \code{\link{video_scores}}
#'   (either shape), any data frame whose numeric columns are emotion labels, or a
#'   named list of named numeric vectors (one per text, as from transforEmotion's
#'   \code{transformer_scores()}).
#' @param mapping Only \code{"nrc_vad"}.
#' @param weighted \code{TRUE} (default): weighted mean over the labels found in the
#'   lexicon, by their scores. \code{FALSE}: the ratings of the highest-scoring
#'   label.
#' @param cache_lexicon Keep the lexicon loaded from 'textdata' for the rest of the R
#'   session.
#' @param vad_lexicon A data frame with a word column (\code{word}, \code{Word} or
#'   \code{term}) and \code{valence}, \code{arousal}, \code{dominance} columns (any
#'   capitalisation), or the path of such a file (e.g. the NRC lexicon's
#'   \code{NRC-VAD-Lexicon.txt}). When \code{NULL}, the NRC VAD Lexicon is loaded with
#'   \code{textdata::lexicon_nrc_vad()}, which needs the 'textdata' package and a
#'   copy of the lexicon you downloaded with it.
#'
#' @return A data frame with one row per row of \code{results}: its identifier
#'   columns when present (\code{image}, \code{video}, \code{frame}, \code{time_s},
#'   \code{face_id}; \code{text_id} for a list), then \code{valence}, \code{arousal}
#'   and \code{dominance}. Rows without scores are \code{NA}.
#'
#' @section The lexicon:
#' The NRC VAD Lexicon's terms allow research use only, so pybridge does not ship
#' it. Labels are matched to lexicon words exactly (ignoring case and surrounding
#' spaces); labels not in the lexicon are left out with a warning, and a lexicon that
#' matches none of them is an error.
#'
#' @section Differences from transforEmotion:
#' No substring matching (transforEmotion gave \code{"anger"} the ratings of the
#' first word containing it, such as \code{"danger"}); missing lexicon columns and
#' labels that match nothing are errors of class \code{pybridge_invalid_input};
#' identifier columns of the scores are kept.
#'
#' @seealso \code{\link{vad_scores}}
#' @export
#' @examples
#' lexicon <- data.frame(word = c("happy", "sad"), valence = c(0.95, 0.1),
#'                       arousal = c(0.7, 0.3), dominance = c(0.65, 0.25))
#' scores <- data.frame(happy = c(0.8, 0.3), sad = c(0.2, 0.7))
#' \donttest{
#' if (reticulate::py_module_available("pybridge")) {
#'   map_discrete_to_vad(scores, vad_lexicon = lexicon)
#' }
#' }
map_discrete_to_vad <- function(results, mapping = "nrc_vad", weighted = TRUE,
                                cache_lexicon = TRUE, vad_lexicon = NULL) {
  if (!identical(mapping, "nrc_vad")) {
    pybridge_abort("invalid_input", "`mapping` must be \"nrc_vad\".")
  }
  check_flag(weighted, "weighted")
  check_flag(cache_lexicon, "cache_lexicon")
  text_ids <- NULL
  if (is.list(results) && !is.data.frame(results)) {
    text_ids <- names(results) %||% paste0("text_", seq_along(results))
    results <- scores_list_to_frame(results)
  }
  if (!is.data.frame(results)) {
    pybridge_abort("invalid_input", paste0(
      "`results` must be a data frame of emotion scores (from image_scores() or ",
      "video_scores()) or a named list of named numeric vectors."))
  }
  if (is.null(vad_lexicon)) vad_lexicon <- nrc_vad_lexicon(cache_lexicon)
  if (is.character(vad_lexicon) && length(vad_lexicon) == 1) vad_lexicon <- path.expand(vad_lexicon)
  mapped <- from_python(py_call("map_discrete_to_vad", results, vad_lexicon,
                                weighted = weighted))
  if (!is.null(text_ids)) mapped <- cbind(data.frame(text_id = text_ids), mapped)
  mapped
}

scores_list_to_frame <- function(results) {
  valid <- vapply(results, function(x) is.numeric(x) && !is.null(names(x)), logical(1))
  if (length(results) == 0 || !all(valid)) {
    pybridge_abort("invalid_input", paste0(
      "A list of scores must hold one named numeric vector per text, e.g. ",
      "list(text_1 = c(joy = 0.8, anger = 0.2))."), call = sys.call(-1))
  }
  labels <- unique(unlist(lapply(results, names)))
  rows <- lapply(results, function(x) unname(x[labels]))
  frame <- as.data.frame(do.call(rbind, rows))
  names(frame) <- labels
  rownames(frame) <- NULL
  frame
}

# The NRC VAD Lexicon through 'textdata', as transforEmotion loads it: only when the
# user has the package (and, through it, the lexicon).
nrc_vad_lexicon <- function(cache) {
  if (cache && !is.null(.python$nrc_vad)) return(.python$nrc_vad)
  if (!requireNamespace("textdata", quietly = TRUE)) {
    pybridge_abort("missing_dependency", paste0(
      "No `vad_lexicon` given and the 'textdata' package is not installed. Pass the ",
      "lexicon as a data frame or file path (vad_lexicon = ...), or install 'textdata' ",
      "and download the NRC VAD Lexicon once with textdata::lexicon_nrc_vad() in an ",
      "interactive session."), call = sys.call(-1))
  }
  loader <- getExportedValue("textdata", "lexicon_nrc_vad")
  lexicon <- tryCatch(loader(), error = function(e) {
    pybridge_abort("missing_dependency", paste0(
      "The NRC VAD Lexicon could not be loaded with textdata::lexicon_nrc_vad() (",
      conditionMessage(e), "). Run it once in an interactive session to download it, ",
      "or pass vad_lexicon = ..."), call = NULL)
  })
  lexicon <- as.data.frame(lexicon)
  if (cache) .python$nrc_vad <- lexicon
  lexicon
}
