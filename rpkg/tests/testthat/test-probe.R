probe_images <- function() {
  if (is.null(fixtures$probe_images)) {
    folder <- file.path(tempdir(), "probe-images")
    dir.create(folder, showWarnings = FALSE)
    reticulate::py_run_string(sprintf(paste(
      "import numpy as np, PIL.Image",
      "rng = np.random.default_rng(0)",
      "for i in range(8):",
      "    colour = (220, 40, 40) if i %% 2 == 0 else (40, 40, 220)",
      "    pixels = np.clip(np.array(colour) + rng.normal(0, 10, (32, 32, 3)), 0, 255)",
      "    PIL.Image.fromarray(pixels.astype('uint8')).save(r'%s/img%%d.png' %% i)",
      sep = "\n"), folder))
    fixtures$probe_images <- file.path(folder, sprintf("img%d.png", 0:7))
  }
  fixtures$probe_images
}

test_that("train_probe() trains on images and predicts classes and probabilities", {
  skip_if_no_python()
  images <- probe_images()
  classes <- rep(c("red", "blue"), 4)
  probe <- train_probe(images[1:6], classes[1:6], local_model_path = tiny_clip_path(),
                       face_selection = "none", random_state = 0L)
  expect_s3_class(probe, "pybridge_probe")
  predicted <- predict(probe, images[7:8])
  expect_type(predicted, "character")
  expect_length(predicted, 2)
  probabilities <- predict(probe, images[7:8], type = "prob")
  expect_setequal(names(probabilities), c("blue", "red"))
  expect_equal(rowSums(probabilities), c(1, 1), tolerance = 1e-9, ignore_attr = TRUE)

  # as a scorer in image_scores(): the probe's classes become the label columns
  scores <- image_scores(images[7:8], face_selection = "none", scorer = probe,
                         local_model_path = tiny_clip_path())
  expect_identical(tail(names(scores), 2), names(probabilities))
  expect_equal(unname(as.matrix(scores[names(probabilities)])),
               unname(as.matrix(probabilities)), tolerance = 1e-6)

  # save / load round trip gives the same probabilities
  path <- save_probe(probe, file.path(tempdir(), "probe"))
  expect_identical(path, file.path(tempdir(), "probe.npz"))
  again <- load_probe(path)
  expect_identical(predict(again, images[7:8], type = "prob"), probabilities)
})

test_that("train_probe() on image_embeddings() keeps the model provenance", {
  skip_if_no_python()
  images <- probe_images()
  embeddings <- image_embeddings(images, local_model_path = tiny_clip_path(),
                                 face_selection = "none")
  expect_identical(nrow(embeddings), 8L)
  expect_true("e0" %in% names(embeddings))
  expect_false(is.null(attr(embeddings, "provenance")))
  probe <- train_probe(embeddings[1:6, ], rep(c("red", "blue"), 3),
                       local_model_path = tiny_clip_path(), face_selection = "none")
  expect_length(predict(probe, embeddings[7:8, ]), 2)
})
