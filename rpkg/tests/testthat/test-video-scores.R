labels <- c("happy", "sad")

test_that("video_scores() gives one row per sampled frame and equals the Python API", {
  skip_if_no_python()
  scores <- video_scores(face_video_path(), labels, nframes = 12, ffreq = 1,
                         local_model_path = tiny_clip_path())
  landmarks <- paste0("landmark_", rep(c("left_eye", "right_eye", "nose", "mouth_left",
                                        "mouth_right"), each = 2), "_", c("x", "y"))
  expect_identical(names(scores), c("frame", "time_s", "track_id", "face_found", "face_score",
                                    "face_x", "face_y", "face_w", "face_h", "reason", landmarks,
                                    labels))
  expect_identical(unique(scores$track_id[scores$face_found]), 0)
  expect_identical(attr(scores, "provenance")$tracker$max_gap, 5L)
  expect_identical(scores$frame, 0:11)
  expect_equal(scores$time_s, (0:11) / 5)
  expect_identical(scores$face_found, !(0:11 %in% c(3, 7)))
  expect_true(all(is.na(unlist(scores[!scores$face_found, labels]))))

  reference <- python_scores("video_scores", face_video_path(), as.list(labels),
                             nframes = 12L, ffreq = 1L, local_model_path = tiny_clip_path())
  expect_identical(scores, reference)
})

test_that("video_scores() with several videos adds id and video columns", {
  skip_if_no_python()
  second <- file.path(tempdir(), "face-copy.mp4")
  file.copy(face_video_path(), second, overwrite = TRUE)
  scores <- video_scores(c(face_video_path(), second), labels, nframes = 4,
                         uniform = TRUE, local_model_path = tiny_clip_path())
  expect_identical(names(scores)[1:3], c("id", "video", "frame"))
  expect_identical(scores$id, rep(c(1L, 2L), each = 4))
  expect_identical(tail(names(scores), 2), labels)
  # ready for EGAnet::dynEGA(): id plus the label columns
  expect_identical(names(scores[c("id", labels)]), c("id", labels))
})

test_that("video_scores() respects the window and warns when it is short", {
  skip_if_no_python()
  expect_warning(
    scores <- video_scores(face_video_path(), labels, nframes = 50, ffreq = 2, start = 1,
                           local_model_path = tiny_clip_path()),
    class = "pybridge_warning")
  expect_true(all(scores$time_s >= 1))
  expect_identical(scores$frame, seq(5L, 11L, by = 2L))
})

test_that("video_scores() writes frames only when asked and never deletes files", {
  skip_if_no_python()
  save_dir <- file.path(tempdir(), "saved")
  dir.create(save_dir, showWarnings = FALSE)
  keep <- file.path(save_dir, "mine.jpg")
  writeLines("user file", keep)
  video_scores(face_video_path(), labels, nframes = 3, ffreq = 1, save_dir = save_dir,
               local_model_path = tiny_clip_path())
  expect_true(file.exists(keep))
  expect_identical(list.files(save_dir), "mine.jpg")
  video_scores(face_video_path(), labels, nframes = 3, ffreq = 1, save_frames = TRUE,
               save_dir = save_dir, video_name = "clip", local_model_path = tiny_clip_path())
  expect_length(list.files(file.path(save_dir, "clip")), 3)
  expect_true(file.exists(keep))
  expect_warning(video_scores(face_video_path(), labels, nframes = 2, ffreq = 1, save_video = TRUE,
                              local_model_path = tiny_clip_path()),
                 "save_video", class = "pybridge_warning")
})

test_that("unreadable videos are typed errors naming the file", {
  skip_if_no_python()
  missing_file <- file.path(tempdir(), "no-such-video.mp4")
  expect_error(video_scores(missing_file, labels, local_model_path = tiny_clip_path()),
               "no-such-video.mp4", class = "pybridge_unreadable_video")
  empty <- file.path(tempdir(), "empty.mp4")
  file.create(empty)
  expect_error(video_scores(empty, labels, local_model_path = tiny_clip_path()),
               class = "pybridge_unreadable_video")
})

test_that("output = \"transforEmotion\" gives one row per frame and only the labels", {
  skip_if_no_python()
  shaped <- suppressWarnings(video_scores(face_video_path(), c("happy", "sad"), nframes = 5,
                                          ffreq = 1, local_model_path = tiny_clip_path(),
                                          output = "transforEmotion"))
  expect_identical(names(shaped), c("happy", "sad"))
  expect_identical(nrow(shaped), 5L)
  expect_true(all(is.na(shaped[4, ])))  # frame 3 has no face
})

test_that("YouTube URLs without pytubefix are a typed error", {
  skip_if_no_python()
  if (reticulate::py_module_available("pytubefix")) skip("pytubefix is installed")
  expect_error(video_scores("https://www.youtube.com/watch?v=hdYNcv-chgY", c("happy", "sad"),
                            model = "no-such-model"),
               "pytubefix", class = "pybridge_missing_dependency")
})
