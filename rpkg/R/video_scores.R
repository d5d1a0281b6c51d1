#' Emotion scores of the face in sampled video frames
#'
#' Samples frames from a video file or http(s) URL, finds the face in each and scores
#' it against \code{classes} like \code{\link{image_scores}}, giving one row per
#' sampled frame: an emotion time series. Frames are decoded in one streamed pass
#' (never written to disk unless \code{save_frames = TRUE}), so memory stays bounded
#' and long files cost only the sampled window.
#'
#' Sampling: \code{start} and \code{end} (seconds) bound the window, \code{end = -1}
#' meaning the end of the file. With \code{uniform = TRUE}, \code{nframes} frames are
#' spread evenly over the window; otherwise every \code{ffreq}-th frame is taken from
#' \code{start}, stopping at \code{end} or after \code{nframes} frames. A window with
#' fewer frames than asked gives fewer rows and a warning.
#'
#' @inheritParams image_scores
#' @param video Path(s) or http(s) URL(s) of video files (anything ffmpeg reads).
#'   Several videos are scored one after the other and stacked, with \code{id} and
#'   \code{video} columns.
#' @param nframes Maximum number of frames to score (default 100).
#' @param face_selection \code{"largest"} (default), \code{"left"}, \code{"right"},
#'   \code{"none"} or \code{"all"}, as in \code{\link{image_scores}}.
#' @param start,end Window in seconds; \code{end = -1} (default) is the end of the file.
#' @param uniform Spread \code{nframes} evenly over the window (\code{TRUE}) or take
#'   every \code{ffreq}-th frame (\code{FALSE}, default).
#' @param ffreq Frame step when \code{uniform = FALSE} (default 15).
#' @param save_video For YouTube URLs, \code{TRUE} downloads the video into
#'   \code{save_dir} (as \code{<video id>.mp4}) instead of pybridge's cache. Other
#'   videos and URLs are streamed without a copy, so there \code{TRUE} gives a warning.
#' @param save_frames If \code{TRUE}, the sampled frames are written as image files to
#'   \code{file.path(save_dir, video_name)} for inspection. Existing files are never
#'   deleted.
#' @param save_dir,video_name Where \code{save_frames} writes (defaults \code{"temp/"}
#'   and \code{"temp"}, as in transforEmotion).
#' @param ... Further arguments for the Python function \code{pybridge.video_scores},
#'   e.g. \code{batch_size}, \code{device}, \code{precision} (as in
#'   \code{\link{image_scores}}; \code{resume} refuses a file written in another
#'   precision), \code{out} (a .csv or .parquet file the rows
#'   are written to as they are computed), \code{resume} (continue an interrupted run
#'   from \code{out}), \code{templates}, \code{scorer} (a trained probe),
#'   \code{face_detection_size} (longest side in pixels of the copy faces are detected
#'   on, default 640; \code{NULL} scans the full resolution, as transforEmotion does) or
#'   \code{progress}.
#'
#' @param output \code{"tidy"} (default) or \code{"transforEmotion"}: only the label
#'   columns, one row per sampled frame, as transforEmotion returned them (see
#'   \code{\link{image_scores}}; default \code{getOption("pybridge.output", "tidy")}).
#'
#' @return A \code{data.frame} with one row per sampled frame: (\code{id} and
#'   \code{video} when several videos are given), \code{frame} (index in the file),
#'   \code{time_s} (presentation time in seconds), \code{track_id} (the same number
#'   for the same person across frames; someone who leaves for more than 5 sampled
#'   frames, or comes back far from where they left, gets a new number),
#'   \code{face_found}, \code{face_score}, the face box (\code{face_x}, \code{face_y},
#'   \code{face_w}, \code{face_h}), \code{reason}, the \code{landmark_*} columns
#'   (MTCNN), then one column per label named exactly as the label. Frames without a
#'   face keep their row with \code{NA} scores. For \code{EGAnet::dynEGA()} keep the
#'   \code{id} and label columns, e.g. \code{scores[c("id", classes)]}; for one series
#'   per person use \code{face_selection = "all"} and
#'   \code{dynEGA(scores, id = "track_id")}.
#'
#' @section Differences from transforEmotion:
#' \itemize{
#'   \item With a window, transforEmotion took \code{nframes} frames every
#'     \code{ffreq} frames from \code{start} without stopping at \code{end}, so rows
#'     could come from after \code{end} or past the end of the file; a \code{start}
#'     without an \code{end} was an error; and without a window it stopped with an
#'     error whenever \code{ffreq * nframes} exceeded the number of frames, even with
#'     \code{uniform = TRUE}. Here the window is exact and a short window gives fewer
#'     rows with a warning.
#'   \item transforEmotion skipped frames it could not read and its rows carried no
#'     frame number or time, so gaps in the time axis were invisible. Here every
#'     sampled frame keeps its row (\code{NA} scores and a \code{reason} when it has no
#'     face or cannot be read), and \code{frame} and \code{time_s} give its true
#'     position, also for variable-frame-rate and rotated files.
#'   \item transforEmotion created \code{save_dir} and, with \code{save_frames = FALSE},
#'     deleted every file matching ".jpg" in it, including files the user had put
#'     there. pybridge writes nothing unless \code{save_frames = TRUE} and never
#'     deletes files.
#'   \item Any video file or http(s) video URL works. YouTube URLs need the optional
#'     Python package 'pytubefix' (\code{setup_modules(extras = "youtube")} or
#'     \code{pip install "pybridge-emotion[youtube]"}); without it, or without network, the
#'     error has class \code{pybridge_missing_dependency} or \code{pybridge_download}.
#'     A downloaded YouTube video is kept in pybridge's cache and reused.
#' }
#'
#' @seealso \code{\link{image_scores}}, \code{\link{estimate_dlo}}, \code{\link{dynEGA}}
#' @export
#' @examples
#' \donttest{
#' # downloads the model on first use
#' if (reticulate::py_module_available("pybridge")) {
#'   try(video_scores("speech.mp4", c("happy", "sad", "neutral"), nframes = 50,
#'                    uniform = TRUE))
#' }
#' }
video_scores <- function(video, classes, nframes = 100, face_selection = "largest",
                         start = 0, end = -1, uniform = FALSE, ffreq = 15,
                         save_video = FALSE, save_frames = FALSE, save_dir = "temp/",
                         video_name = "temp", model = "oai-base", local_model_path = NULL,
                         detector = "mtcnn", face_threshold = NULL, ...,
                         output = getOption("pybridge.output", "tidy")) {
  check_output(output)
  if (missing(classes)) classes <- NULL
  check_labels(classes, allow_null = TRUE)
  if (!is.character(video) || length(video) == 0 || anyNA(video)) {
    pybridge_abort("invalid_input",
                   "`video` must be one or more video paths or URLs (a character vector).")
  }
  nframes <- check_count(nframes, "nframes")
  ffreq <- check_count(ffreq, "ffreq")
  check_flag(uniform, "uniform")
  check_flag(save_video, "save_video")
  check_flag(save_frames, "save_frames")
  youtube <- grepl("^https?://(www\\.|m\\.)?(youtube\\.com|youtu\\.be)/", video)
  if (save_video && any(youtube)) {
    video[youtube] <- vapply(video[youtube], function(url) {
      reticulate::py_str(py_call("fetch_youtube_video", url, path.expand(save_dir)))
    }, character(1), USE.NAMES = FALSE)
  }
  if (save_video && !all(youtube)) {
    warning(warningCondition(paste0(
      "save_video = TRUE keeps only YouTube downloads: pybridge streams other videos ",
      "without downloading them, so there is no copy to keep."), class = "pybridge_warning"))
  }
  frames_dir <- if (save_frames) file.path(save_dir, video_name) else NULL
  videos <- if (length(video) == 1) video else as.list(video)
  scores <- py_call("video_scores", videos, as_py_list(classes),
                    nframes = nframes, face_selection = face_selection,
                    start = start, end = end, uniform = uniform, ffreq = ffreq,
                    model = model, local_model_path = expand_path(local_model_path),
                    detector = detector, face_threshold = face_threshold,
                    save_frames = frames_dir, ...)
  if (output == "transforEmotion") return(shaped_scores(scores, output))
  scores <- from_python(scores)
  if (length(video) > 1 && "video" %in% names(scores)) {
    provenance <- attr(scores, "provenance")
    scores <- cbind(data.frame(id = match(scores$video, unique(scores$video))), scores)
    attr(scores, "provenance") <- provenance
  }
  scores
}
