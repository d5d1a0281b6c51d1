#' Register a vision model under an alias
#'
#' Makes a Hugging Face checkpoint, an open_clip checkpoint or a local model folder
#' available by a short name in \code{model =} of \code{\link{image_scores}},
#' \code{\link{video_scores}} and friends.
#'
#' @param name Alias, e.g. \code{"my-emotion-clip"} (letters, digits, \code{.},
#'   \code{_}, \code{-}).
#' @param model_id Hugging Face id (\code{"org/name"}), open_clip hub id
#'   (\code{"hf-hub:org/name"}) or a local folder.
#' @param architecture \code{"clip"} (default; CLIP-style dual encoders loaded with
#'   transformers, SigLIP detected from the id or config), \code{"clip-custom"}
#'   (checkpoints that need their own code, e.g. Jina or EVA CLIP: loaded with
#'   \code{trust_remote_code}), \code{"open_clip"} or \code{"siglip"}.
#'   transforEmotion's experimental \code{"blip"} and \code{"align"} are not supported.
#' @param description Optional description, shown by \code{\link{list_vision_models}}
#'   in this R session (the registration itself persists across sessions).
#' @param preprocessing_config Not used: pybridge takes the preprocessing from the
#'   checkpoint's own processor configuration. A non-\code{NULL} value gives a warning.
#' @param requires_special_handling Accepted for transforEmotion scripts; use
#'   \code{architecture = "clip-custom"} for checkpoints with their own code.
#' @param ... Further arguments for the Python function
#'   \code{pybridge.register_model}: \code{revision} (pin a hub revision),
#'   \code{backend}, \code{family}, \code{quantization} (\code{"nf4"}).
#'
#' @return Invisibly \code{TRUE}.
#'
#' @section Differences from transforEmotion:
#' Registrations are kept across R sessions (in pybridge's model cache folder), not
#' only for the current session. Re-registering an alias you registered before
#' replaces it with a warning, as in transforEmotion; built-in aliases cannot be
#' replaced.
#'
#' @seealso \code{\link{list_vision_models}}, \code{\link{remove_vision_model}}
#' @export
#' @examples
#' \donttest{
#' if (reticulate::py_module_available("pybridge")) {
#'   register_vision_model("my-clip", "openai/clip-vit-base-patch16",
#'                         description = "CLIP ViT-B/16")
#'   is_vision_model_registered("my-clip")
#'   remove_vision_model("my-clip", confirm = FALSE)
#' }
#' }
register_vision_model <- function(name, model_id, architecture = "clip", description = NULL,
                                  preprocessing_config = NULL,
                                  requires_special_handling = FALSE, ...) {
  check_name(name, "name")
  check_name(model_id, "model_id")
  architectures <- list(
    clip = list(),
    "clip-custom" = list(trust_remote_code = TRUE),
    open_clip = list(backend = "open_clip"),
    siglip = list(family = "siglip")
  )
  if (!is.character(architecture) || length(architecture) != 1 ||
      !architecture %in% names(architectures)) {
    pybridge_abort("invalid_input", sprintf(paste0(
      "`architecture` must be one of %s; got %s. pybridge scores with CLIP-style ",
      "dual encoders, so transforEmotion's experimental \"blip\" and \"align\" are ",
      "not supported."), paste(sprintf("\"%s\"", names(architectures)), collapse = ", "),
      format(architecture)))
  }
  if (!is.null(preprocessing_config)) {
    warning(warningCondition(paste0(
      "`preprocessing_config` is ignored: pybridge uses the preprocessing stored with ",
      "the checkpoint."), class = "pybridge_warning"))
  }
  overwrite <- name %in% user_aliases()
  if (overwrite) {
    warning(warningCondition(paste0("Overwriting existing model registration: ", name),
                             class = "pybridge_warning"))
  }
  source <- if (dir.exists(model_id)) normalizePath(model_id) else model_id
  arguments <- c(list(name, source), architectures[[architecture]],
                 list(overwrite = overwrite), list(...))
  do.call(py_call, c(list("register_model"), arguments))
  descriptions <- getOption("pybridge.model_descriptions", list())
  descriptions[[name]] <- description
  options(pybridge.model_descriptions = descriptions)
  message("Registered vision model '", name, "' -> ", model_id)
  invisible(TRUE)
}

#' List the available vision models
#'
#' @param include_builtin Include pybridge's built-in aliases (default \code{TRUE});
#'   \code{FALSE} lists only the models you registered.
#' @param architecture_filter Optional character vector: keep models whose
#'   \code{architecture} is one of these (e.g. \code{"clip"}, \code{"clip-custom"},
#'   \code{"siglip"}, \code{"open_clip"}, \code{"cnn"}).
#' @param verbose If \code{TRUE}, return the full configuration of each model as a
#'   list (see \code{\link{get_vision_model_config}}) instead of a data frame.
#'
#' @return A \code{data.frame} with one row per model: \code{name},
#'   \code{model_id}, \code{architecture}, \code{description} (the columns of
#'   transforEmotion), then \code{backend}, \code{family}, \code{trust_remote_code},
#'   \code{quantization}, \code{approx_memory_gb}, \code{cached} (weights available
#'   offline) and \code{user} (registered by you).
#'
#' @export
#' @examples
#' if (reticulate::py_module_available("pybridge")) {
#'   models <- list_vision_models()
#'   models[, c("name", "model_id", "cached")]
#' }
list_vision_models <- function(include_builtin = TRUE, architecture_filter = NULL,
                               verbose = FALSE) {
  check_flag(include_builtin, "include_builtin")
  check_flag(verbose, "verbose")
  models <- from_python(py_call("list_models"))
  models <- data.frame(
    name = models$alias,
    model_id = models$source,
    architecture = architecture_of(models$backend, models$family, models$trust_remote_code),
    description = model_descriptions(models$alias, models$description),
    models[setdiff(names(models), c("alias", "source", "description"))],
    check.names = FALSE, stringsAsFactors = FALSE
  )
  if (!include_builtin) models <- models[models$user, , drop = FALSE]
  if (!is.null(architecture_filter)) {
    models <- models[models$architecture %in% architecture_filter, , drop = FALSE]
  }
  rownames(models) <- NULL
  if (verbose) {
    return(stats::setNames(lapply(models$name, get_vision_model_config), models$name))
  }
  models
}

#' @rdname list_vision_models
#' @param show_details Print every field of each model instead of a table.
#' @param filter_by Same as \code{architecture_filter}.
#' @details \code{show_vision_models()} prints the list with usage hints and returns
#'   the data frame invisibly.
#' @export
show_vision_models <- function(show_details = FALSE, filter_by = NULL) {
  models <- list_vision_models(architecture_filter = filter_by)
  if (nrow(models) == 0) {
    message("No vision models found.")
    return(invisible(models))
  }
  if (show_details) {
    for (i in seq_len(nrow(models))) {
      cat(sprintf("%d. %s\n", i, models$name[i]))
      for (field in setdiff(names(models), "name")) {
        cat(sprintf("   %-18s %s\n", paste0(field, ":"), format(models[[field]][i])))
      }
    }
  } else {
    shown <- models[c("name", "model_id", "architecture", "cached")]
    print(shown, row.names = FALSE)
  }
  cat("\nUse a name in model = ..., e.g. image_scores(img, classes, model = \"",
      models$name[1], "\").\n", sep = "")
  invisible(models)
}

#' Configuration of a vision model
#'
#' @param name Model alias, or a Hugging Face id (described without registering it).
#' @return A list: \code{name}, \code{model_id}, \code{architecture},
#'   \code{description}, \code{preprocessing_config} (a list: \code{face_crop},
#'   \code{processor_source}, \code{image_size} and \code{processor}, the
#'   checkpoint's image-processor settings when its files are on this machine),
#'   \code{requires_special_handling} (the checkpoint runs its own code),
#'   \code{registered_at} (POSIXct, UTC; \code{NA} for built-in models), then every
#'   field of pybridge's model specification (backend, family, revision,
#'   quantization, face_crop, classes, ...) and \code{cached}, \code{weights_path}
#'   and \code{loaded}.
#' @section Differences from transforEmotion:
#' An unknown alias is an error of class \code{pybridge_unknown_model} that lists the
#' known aliases. \code{preprocessing_config} describes what pybridge does; a
#' \code{preprocessing_config} given to \code{register_vision_model()} is not used.
#' @export
#' @examples
#' if (reticulate::py_module_available("pybridge")) {
#'   str(get_vision_model_config("oai-base"))
#' }
get_vision_model_config <- function(name) {
  check_name(name, "name")
  info <- from_python(py_call("model_info", name))
  registered_at <- if (is.null(info$registered_at)) as.POSIXct(NA) else
    as.POSIXct(sub("[+-]00:00$", "", info$registered_at), format = "%Y-%m-%dT%H:%M:%S", tz = "UTC")
  c(list(name = info$alias, model_id = info$source,
         architecture = architecture_of(info$backend, info$family, info$trust_remote_code),
         description = model_descriptions(info$alias, info$description),
         preprocessing_config = info$preprocessing_config,
         requires_special_handling = info$requires_special_handling,
         registered_at = registered_at),
    info[setdiff(names(info), c("alias", "source", "description", "preprocessing_config",
                                "requires_special_handling", "registered_at"))])
}

#' Remove a vision model
#'
#' Unregisters an alias you registered and, if asked, deletes its downloaded
#' weights from the cache.
#'
#' @param name Model alias.
#' @param confirm Ask before removing. Only in interactive sessions: a script is
#'   never stopped by a question.
#' @param delete_weights Also delete the model's downloaded weights (Hugging Face
#'   cache or pybridge cache; local folders are never deleted). This is the only way
#'   to "remove" a built-in alias, which stays registered.
#'
#' @return Invisibly \code{TRUE} if something was removed, \code{FALSE} if the user
#'   declined.
#'
#' @section Differences from transforEmotion:
#' In a non-interactive session transforEmotion's confirmation prompt read an empty
#' answer and silently did nothing; here \code{confirm} only applies to interactive
#' sessions. Removal is persistent, like registration.
#' @export
remove_vision_model <- function(name, confirm = TRUE, delete_weights = FALSE) {
  check_name(name, "name")
  check_flag(confirm, "confirm")
  check_flag(delete_weights, "delete_weights")
  info <- get_vision_model_config(name)
  if (!isTRUE(info$user) && !delete_weights) {
    pybridge_abort("invalid_input", sprintf(paste0(
      "'%s' is a built-in model and cannot be unregistered. Use ",
      "remove_vision_model(\"%s\", delete_weights = TRUE) to delete its downloaded ",
      "weights."), name, name))
  }
  if (confirm && interactive()) {
    answer <- readline(sprintf("Remove model '%s'%s? (y/N): ", name,
                               if (delete_weights) " and its downloaded weights" else ""))
    if (!tolower(answer) %in% c("y", "yes")) {
      message("Model removal cancelled")
      return(invisible(FALSE))
    }
  }
  result <- from_python(py_call("remove_model", name, cached_weights = delete_weights))
  freed <- if (result$bytes_freed > 0) sprintf(", %.1f MB freed", result$bytes_freed / 1e6) else ""
  message("Removed model '", name, "'", freed)
  invisible(TRUE)
}

#' @rdname remove_vision_model
#' @details \code{is_vision_model_registered()} tells whether \code{name} is a known
#'   alias (never an error: anything but a single string gives \code{FALSE}).
#' @export
is_vision_model_registered <- function(name) {
  if (!is.character(name) || length(name) != 1 || is.na(name)) return(FALSE)
  name %in% from_python(py_call("list_models"))$alias
}

#' Download or unload a vision model
#'
#' \code{download_vision_model()} fetches a model's weights into the local cache
#' (nothing happens if they are there), so later calls work offline.
#' \code{unload_vision_model()} frees the memory of a loaded model (all models when
#' \code{name} is \code{NULL}); it is loaded again on next use.
#'
#' @param name Model alias.
#' @return \code{download_vision_model()}: the folder with the weights.
#'   \code{unload_vision_model()}: the number of models unloaded. Both invisibly.
#' @export
#' @examples
#' \donttest{
#' if (reticulate::py_module_available("pybridge")) {
#'   try(download_vision_model("cnn-fer"))
#'   unload_vision_model()
#' }
#' }
download_vision_model <- function(name) {
  check_name(name, "name")
  folder <- py_call("download_model", name)
  invisible(reticulate::py_str(folder))
}

#' @rdname download_vision_model
#' @export
unload_vision_model <- function(name = NULL) {
  if (!is.null(name)) check_name(name, "name")
  invisible(from_python(py_call("unload_model", name)))
}

user_aliases <- function() {
  models <- from_python(py_call("list_models"))
  models$alias[models$user]
}

# transforEmotion's architecture names: "clip-custom" for checkpoints with their own
# code, else pybridge's family ("clip", "siglip", "cnn", ...), "open_clip" for the
# open_clip backend.
architecture_of <- function(backend, family, trust_remote_code) {
  ifelse(trust_remote_code, "clip-custom",
         ifelse(backend == "open_clip" & family == "clip", "open_clip", family))
}

# Descriptions given to register_vision_model() in this session win over the
# Python registry's generic one.
model_descriptions <- function(alias, description) {
  given <- getOption("pybridge.model_descriptions", list())
  vapply(seq_along(alias), function(i) {
    given[[alias[i]]] %||% description[i]
  }, character(1))
}

`%||%` <- function(x, y) if (is.null(x)) y else x

check_name <- function(x, name) {
  if (!is.character(x) || length(x) != 1 || is.na(x) || !nzchar(x)) {
    pybridge_abort("invalid_input", sprintf("`%s` must be a single non-empty string.", name),
                   call = sys.call(-1))
  }
  invisible(x)
}

#' Add a vision model, optionally trying it at once
#'
#' Registers a model like \code{\link{register_vision_model}} and, with
#' \code{test_labels}, scores the photograph shipped with the package to show that
#' the model loads and gives probabilities.
#'
#' @param name Alias for the model.
#' @param model_id Hugging Face id or local model folder.
#' @param description Optional description.
#' @param architecture As in \code{\link{register_vision_model}}.
#' @param test_labels Optional character vector of at least two labels to try the
#'   model with.
#' @param force Replace an alias you registered before (otherwise that is an error).
#'
#' @return Invisibly \code{TRUE}; with \code{test_labels}, the test scores are the
#'   attribute \code{"test_scores"}.
#'
#' @section Differences from transforEmotion:
#' The test scores the photograph shipped with the package (no download of a test
#' image), with face detection, and a failing test is an error of the model's class
#' (e.g. \code{pybridge_model_not_available} offline) after the registration, not a
#' warning. BLIP and ALIGN architectures are not supported.
#'
#' @seealso \code{\link{register_vision_model}}, \code{\link{setup_popular_models}}
#' @export
#' @examples
#' \donttest{
#' if (reticulate::py_module_available("pybridge")) {
#'   add_vision_model("clip-b16", "openai/clip-vit-base-patch16")
#'   remove_vision_model("clip-b16", confirm = FALSE)
#' }
#' }
add_vision_model <- function(name, model_id, description = NULL, architecture = "clip",
                             test_labels = NULL, force = FALSE) {
  check_name(name, "name")
  check_name(model_id, "model_id")
  check_flag(force, "force")
  if (!is.null(test_labels)) check_labels(test_labels)
  if (name %in% user_aliases() && !force) {
    pybridge_abort("invalid_input", sprintf(paste0(
      "Model name '%s' is already registered. Use force = TRUE to replace it, or choose ",
      "another name."), name))
  }
  is_hub <- grepl("^(hf-hub:)?[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$", model_id)
  if (!is_hub && !dir.exists(model_id)) {
    pybridge_abort("invalid_input", sprintf(
      "'%s' is neither a Hugging Face id (org/name) nor an existing model folder.", model_id))
  }
  description <- description %||%
    if (is_hub) paste("Hugging Face model:", model_id) else paste("Local model:", basename(model_id))
  register <- function() register_vision_model(name, model_id, architecture = architecture,
                                               description = description)
  if (force) suppressWarnings(register()) else register()
  if (is.null(test_labels)) return(invisible(TRUE))
  image <- system.file("extdata", "astronaut.jpg", package = "pybridge")
  scores <- image_scores(image, test_labels, model = name, output = "tidy")
  message("Test scores of '", name, "' on the package's photograph:")
  print(scores[test_labels], row.names = FALSE)
  result <- TRUE
  attr(result, "test_scores") <- scores
  invisible(result)
}

#' Register popular vision models by short name
#'
#' transforEmotion's shortcut for experimental models. Its \code{"blip-base"},
#' \code{"blip-large"} (captioning models) and \code{"align-base"} are not
#' image-text dual encoders that pybridge scores with, so they give a warning and are
#' not registered. CLIP-family checkpoints that pybridge does score:
#' \code{"clip-vit-b16"} (openai/clip-vit-base-patch16) and \code{"laion-vit-b32"}
#' (laion/CLIP-ViT-B-32-laion2B-s34B-b79K).
#'
#' @param models Character vector of short names.
#'
#' @return Invisibly \code{TRUE} when every model was registered, else \code{FALSE}.
#' @seealso \code{\link{add_vision_model}}, \code{\link{show_vision_models}}
#' @export
#' @examples
#' \donttest{
#' if (reticulate::py_module_available("pybridge")) {
#'   setup_popular_models("clip-vit-b16")
#'   remove_vision_model("clip-vit-b16", confirm = FALSE)
#' }
#' }
setup_popular_models <- function(models) {
  popular <- list(
    "clip-vit-b16" = list(model_id = "openai/clip-vit-base-patch16",
                          description = "OpenAI CLIP ViT-B/16"),
    "laion-vit-b32" = list(model_id = "laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
                           description = "LAION-2B CLIP ViT-B/32 (OpenCLIP)")
  )
  unsupported <- c("blip-base", "blip-large", "align-base")
  if (!is.character(models) || length(models) == 0 || anyNA(models)) {
    pybridge_abort("invalid_input", "`models` must be a non-empty character vector.")
  }
  unknown <- setdiff(models, c(names(popular), unsupported))
  if (length(unknown) > 0) {
    pybridge_abort("invalid_input", sprintf("Unknown popular model(s): %s. Available: %s.",
                                            paste(unknown, collapse = ", "),
                                            paste(names(popular), collapse = ", ")))
  }
  registered <- 0
  for (name in models) {
    if (name %in% unsupported) {
      warning(warningCondition(sprintf(paste0(
        "'%s' is not registered: pybridge scores with image-text dual encoders (CLIP, ",
        "SigLIP, OpenCLIP), and BLIP/ALIGN checkpoints are not supported. Available: %s."),
        name, paste(names(popular), collapse = ", ")), class = "pybridge_warning"))
      next
    }
    config <- popular[[name]]
    suppressWarnings(register_vision_model(name, config$model_id,
                                           architecture = config$architecture %||% "clip",
                                           description = config$description))
    registered <- registered + 1
  }
  message(sprintf("Registered %d of %d models.", registered, length(models)))
  invisible(registered == length(models))
}
