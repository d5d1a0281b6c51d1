# dlo_dynamics(), plot_sim_emotions(), add_vision_model(), setup_popular_models(),
# Hugging Face ids as model = and get_vision_model_config()'s transforEmotion fields.

test_that("dlo_dynamics() equals the equation and the Python function", {
  skip_if_no_python()
  expect_identical(dlo_dynamics(0.25, 2, 0.05, 0.01, 0.5, 0.5), c(2, 1.175))
  python <- reticulate::py_to_r(python_glue()$call(pybridge_api(), "dlo_dynamics",
    list(0.3, -1.5, 0.2, 0.1, -0.4, -0.2), reticulate::dict())$value)
  expect_equal(dlo_dynamics(0.3, -1.5, 0.2, 0.1, -0.4, -0.2), unlist(python), tolerance = 0)
  expect_identical(dlo_dynamics(c(1, 2), c(0, 1), 0, 1, -1, -0.5), c(0, 1, -1, -2.5))
  expect_error(dlo_dynamics("a", 1, 0, 1, 1, 1), "`x` must be numeric", class = "pybridge_invalid_input")
})

test_that("plot_sim_emotions() draws each mode and rejects bad input", {
  skip_if_no_python()
  video <- simulate_video(dt = 0.01, num_steps = 40, num_observables = 3, eta_n = 0.5,
                          zeta_n = 0.5, eta = 0.5, zeta = 0.5, sigma_q = 0.1,
                          sd_observable = 0.1, loadings = 0.8, window_size = 5, seed = 1)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  for (mode in c("latent", "positive", "negative")) {
    expect_identical(plot_sim_emotions(video, mode = mode, title = "simulated"), video)
  }
  expect_error(plot_sim_emotions(video, mode = "neutral"), class = "pybridge_invalid_input")
  expect_error(plot_sim_emotions(video[c("Nt", "Ng")]), "lacks the latent columns \\(Ps\\)",
               class = "pybridge_invalid_input")
  expect_error(plot_sim_emotions(video[1:6], mode = "positive"), "lacks the positive columns",
               class = "pybridge_invalid_input")
  expect_error(plot_sim_emotions(video[0, ]), class = "pybridge_invalid_input")
})

test_that("add_vision_model() registers, tests with labels and refuses to overwrite", {
  skip_if_no_python()
  expect_message(add_vision_model("tiny-added", tiny_clip_path(), test_labels = c("happy", "sad")),
                 "Test scores")
  config <- get_vision_model_config("tiny-added")
  expect_true(config$user)
  expect_s3_class(config$registered_at, "POSIXct")
  expect_true(abs(as.numeric(difftime(Sys.time(), config$registered_at, units = "mins"))) < 60)
  expect_false(config$requires_special_handling)
  expect_identical(config$preprocessing_config$face_crop, "padded")
  expect_error(add_vision_model("tiny-added", tiny_clip_path()), "already registered",
               class = "pybridge_invalid_input")
  expect_message(add_vision_model("tiny-added", tiny_clip_path(), force = TRUE), "Registered")
  expect_error(add_vision_model("x", file.path(tempdir(), "no-such-folder")), "neither",
               class = "pybridge_invalid_input")
  remove_vision_model("tiny-added", confirm = FALSE)
})

test_that("setup_popular_models() registers CLIP models and warns for BLIP/ALIGN", {
  skip_if_no_python()
  warned <- character()
  ok <- withCallingHandlers(
    setup_popular_models(c("blip-base", "align-base", "clip-vit-b16")),
    pybridge_warning = function(w) {
      warned <<- c(warned, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  expect_length(warned, 2)
  expect_match(warned, "BLIP/ALIGN checkpoints are not supported")
  expect_false(ok)
  expect_true(is_vision_model_registered("clip-vit-b16"))
  expect_identical(get_vision_model_config("clip-vit-b16")$model_id, "openai/clip-vit-base-patch16")
  remove_vision_model("clip-vit-b16", confirm = FALSE)
  expect_error(setup_popular_models("no-model"), "Unknown popular", class = "pybridge_invalid_input")
  expect_error(setup_popular_models(character(0)), class = "pybridge_invalid_input")
})

test_that("a Hugging Face id is a model: not available offline, not unknown", {
  skip_if_no_python()
  config <- get_vision_model_config("openai/clip-vit-base-patch16")
  expect_identical(config$architecture, "clip")
  expect_false(config$cached)
  expect_true(is.na(config$registered_at))
  expect_true(get_vision_model_config("eva-8B")$requires_special_handling)
  expect_error(image_scores(face_image_path(), c("happy", "sad"), model = "openai/clip-vit-base-patch16"),
               class = "pybridge_model_not_available")
})
