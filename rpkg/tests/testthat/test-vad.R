# vad_scores() and map_discrete_to_vad(): the Python API's numbers, bad input.

lexicon <- data.frame(Word = c("happy", "sad", "angry", "neutral"),
                      Valence = c(0.95, 0.10, 0.15, 0.50), Arousal = c(0.70, 0.30, 0.85, 0.20),
                      Dominance = c(0.65, 0.25, 0.70, 0.45))

test_that("vad_scores() gives one column per dimension, equal to the Python API", {
  skip_if_no_python()
  images <- c(face_image_path(), blank_image_path())
  vad <- vad_scores(images, dimensions = c("valence", "arousal"),
                    local_model_path = tiny_clip_path())
  expect_identical(names(vad)[(ncol(vad) - 1):ncol(vad)], c("valence", "arousal"))
  expect_identical(vad$face_found, c(TRUE, FALSE))
  expect_true(all(is.na(vad[2, c("valence", "arousal")])))
  expect_true(vad$valence[1] > 0 && vad$valence[1] < 1)
  reference <- python_scores("vad_scores", as.list(images), dimensions = list("valence", "arousal"),
                             local_model_path = tiny_clip_path())
  expect_identical(vad, reference)
})

test_that("vad_scores() scores video frames and rejects bad input", {
  skip_if_no_python()
  vad <- suppressWarnings(vad_scores(face_video_path(), dimensions = "dominance", nframes = 4,
                                     ffreq = 1, local_model_path = tiny_clip_path()))
  expect_identical(vad$frame, 0:3)
  expect_identical(names(vad)[ncol(vad)], "dominance")
  expect_error(vad_scores(face_image_path(), dimensions = c("valence", "joy")),
               "unknown dimension", class = "pybridge_invalid_input")
  expect_error(vad_scores(face_image_path(), label_type = "custom"), "needs custom_labels",
               class = "pybridge_invalid_input")
  expect_error(vad_scores(character(0)), class = "pybridge_invalid_input")
  expect_error(vad_scores("text to score", input_type = "text"), "text is not supported",
               class = "pybridge_invalid_input")
})

test_that("map_discrete_to_vad() weights the lexicon ratings by the scores", {
  skip_if_no_python()
  scores <- data.frame(image = c("a.jpg", "b.jpg", "c.jpg"), happy = c(0.6, 0.1, NA),
                       sad = c(0.3, 0.2, NA), angry = c(0.1, 0.7, NA))
  mapped <- map_discrete_to_vad(scores, vad_lexicon = lexicon)
  expect_identical(names(mapped), c("image", "valence", "arousal", "dominance"))
  expect_equal(mapped$valence[1], 0.6 * 0.95 + 0.3 * 0.10 + 0.1 * 0.15, tolerance = 1e-14)
  expect_true(all(is.na(mapped[3, -1])))
  top <- map_discrete_to_vad(scores, weighted = FALSE, vad_lexicon = lexicon)
  expect_identical(top$arousal[1:2], c(0.70, 0.85))
  # transforEmotion's shape (label columns only) and a list of scores per text
  expect_identical(names(map_discrete_to_vad(scores[-1], vad_lexicon = lexicon)),
                   c("valence", "arousal", "dominance"))
  texts <- map_discrete_to_vad(list(t1 = c(happy = 1, sad = 0), t2 = c(sad = 1, happy = 0)),
                               vad_lexicon = lexicon)
  expect_identical(texts$text_id, c("t1", "t2"))
  expect_identical(texts$valence, c(0.95, 0.10))
  # a lexicon file
  path <- tempfile(fileext = ".txt")
  utils::write.table(lexicon, path, sep = "\t", row.names = FALSE, quote = FALSE)
  expect_identical(map_discrete_to_vad(scores, vad_lexicon = path), mapped)
})

test_that("map_discrete_to_vad() rejects bad lexicons and scores", {
  skip_if_no_python()
  scores <- data.frame(happy = 0.7, sad = 0.3)
  expect_error(map_discrete_to_vad(scores, vad_lexicon = lexicon[c("Word", "Valence")]),
               "lacks the column", class = "pybridge_invalid_input")
  expect_error(map_discrete_to_vad(data.frame(joy = 1, fury = 0), vad_lexicon = lexicon),
               "none of the labels", class = "pybridge_invalid_labels")
  expect_warning(map_discrete_to_vad(data.frame(happy = 0.5, calm = 0.5), vad_lexicon = lexicon),
                 "not in the VAD lexicon", class = "pybridge_warning")
  expect_error(map_discrete_to_vad(scores[0, ], vad_lexicon = lexicon), "no rows",
               class = "pybridge_invalid_input")
  expect_error(map_discrete_to_vad(scores, mapping = "warriner", vad_lexicon = lexicon),
               class = "pybridge_invalid_input")
  expect_error(map_discrete_to_vad(list(1, 2), vad_lexicon = lexicon), "named numeric",
               class = "pybridge_invalid_input")
  if (!requireNamespace("textdata", quietly = TRUE)) {
    expect_error(map_discrete_to_vad(scores), "textdata", class = "pybridge_missing_dependency")
  }
})
