# Runs the R package on the inputs prepared by tests/r/conftest.py and saves every
# result as an .rds file for the rpy2 parity tests.
#
#   Rscript r_side.R INPUTS.rds OUT_DIR
#
# Runs in its own process: R embedded in Python (rpy2) that starts the same Python
# again through reticulate aborts at exit, so pytest only reads the .rds files.

arguments <- commandArgs(trailingOnly = TRUE)
inputs <- readRDS(arguments[1])
out <- arguments[2]
save <- function(value, name) saveRDS(value, file.path(out, paste0(name, ".rds")))

suppressPackageStartupMessages(library(pybridge))

save(image_scores(inputs$images, inputs$labels, local_model_path = inputs$model),
     "image_scores")
save(video_scores(inputs$video, inputs$labels, nframes = inputs$nframes, ffreq = inputs$ffreq,
                  local_model_path = inputs$model),
     "video_scores")

cases <- jsonlite::fromJSON(inputs$transforemotion, simplifyVector = FALSE)$cases
for (case in cases) {
  if (!is.null(case$error)) next
  set.seed(case$seed)
  save(do.call(simulate_video, case$args), paste0("simulate_video_", case$name))
}
save(do.call(simulate_video, c(cases[[1]]$args, list(seed = 7L))), "simulate_video_seed7")

save(estimate_dlo(inputs$series, dt = inputs$dt, method = "kalman"), "estimate_kalman")
save(estimate_dlo(inputs$series, dt = inputs$dt, method = "glla"), "estimate_glla")

dynamic <- dynEGA(inputs$dyn_data, seed = 1, level = c("population", "individual"),
                  verbose = FALSE)
save(list(wc = dynamic$dynEGA$population$wc, network = dynamic$dynEGA$population$network,
          tefi = dynamic$dynEGA$population$TEFI,
          derivatives = dynamic$Derivatives$EstimatesDF),
     "dynega")
if (requireNamespace("EGAnet", quietly = TRUE)) {
  live <- EGAnet::dynEGA(inputs$dyn_data, n.embed = 5, level = "population", seed = 1,
                         verbose = FALSE)
  save(list(wc = live$dynEGA$population$wc, network = live$dynEGA$population$network,
            version = as.character(utils::packageVersion("EGAnet"))),
       "dynega_eganet")
}

error_of <- function(expr) {
  condition <- tryCatch(expr, error = identity)
  list(class = class(condition), message = conditionMessage(condition))
}
save(list(
  unstable = error_of(simulate_dlo(0.1, -0.05, 0.3, 10)),
  unknown_model = error_of(image_scores(inputs$images[1], inputs$labels, model = "no-such-model")),
  missing_video = error_of(video_scores(inputs$missing_video, inputs$labels,
                                        local_model_path = inputs$model))
), "errors")

# a face_selection = "all" table with tracked faces: only the labels are emotions and
# each track is its own series
save(estimate_dlo(inputs$all_faces, dt = 0.2, method = "kalman"), "all_faces_dlo")
per_face <- dynEGA(inputs$all_faces, seed = 1, level = c("population", "individual"),
                   na.derivative = "kalman", verbose = FALSE)
save(list(variables = sub("\\.DerivOrd1$", "", names(per_face$dynEGA$population$wc)),
          individual = names(per_face$dynEGA$individual),
          derivatives = per_face$Derivatives$EstimatesDF),
     "all_faces_dynega")
