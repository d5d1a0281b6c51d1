# Runs the R package's EGAnet functions for tests/r/test_r_eganet.py and saves the
# results as .rds files.
#
#   Rscript eganet_side.R FIXTURES_DIR OUT_DIR EXAMPLE_SCRIPT
#
# FIXTURES_DIR holds EGAnet's sim.dynEGA (sim_dynEGA.csv); EXAMPLE_SCRIPT is
# rpkg/inst/examples/dynEGA_EGAnet_style.R, sourced unchanged (its environment
# variables are set by the test), after which its objects are saved.

arguments <- commandArgs(trailingOnly = TRUE)
fixtures <- arguments[1]
out <- arguments[2]
example <- arguments[3]
save <- function(value, name) saveRDS(value, file.path(out, paste0(name, ".rds")))

suppressPackageStartupMessages(library(pybridge))
sim <- read.csv(file.path(fixtures, "sim_dynEGA.csv"))
all_levels <- c("individual", "group", "population")
quiet <- function(expr) suppressMessages(expr)

# EGAnet's fixture calls, ID and Group found by name
for (d in 0:2) {
  save(quiet(dynEGA(data = sim, n.embed = 5, tau = 1, delta = 1, use.derivatives = d,
                    level = "population", corr = "auto", na.data = "pairwise",
                    model = "glasso", algorithm = "walktrap", uni.method = "louvain",
                    seed = 1, verbose = FALSE)),
       paste0("population_d", d))
}
save(quiet(dynEGA(sim, level = "population", algorithm = "louvain", seed = 1,
                  verbose = FALSE)), "population_louvain")
save(quiet(dynEGA(sim, level = "population", model = "TMFG", seed = 1, verbose = FALSE)),
     "population_tmfg")

# Id and group columns that are not named id/group: by 1-based number (doubles, as
# typed in R; the group number counts the columns left after the id column, as in
# EGAnet) and by name
renamed <- sim
names(renamed)[names(renamed) == "ID"] <- "subject"
names(renamed)[names(renamed) == "Group"] <- "cohort"
save(quiet(dynEGA(renamed, id = 25, group = 25, level = all_levels, seed = 1,
                  verbose = FALSE)), "numeric_id")
save(quiet(dynEGA(renamed, id = "subject", group = "cohort", level = all_levels,
                  seed = 1, verbose = FALSE)), "named_id")

# Bad input: condition classes and messages
error_of <- function(expr) {
  condition <- tryCatch(quiet(expr), error = identity)
  list(class = class(condition), message = conditionMessage(condition))
}
save(list(
  unknown_algorithm = error_of(dynEGA(sim, algorithm = "no_such_algorithm", seed = 1)),
  spinglass = error_of(dynEGA(sim, algorithm = "spinglass", seed = 1)),
  bggm = error_of(dynEGA(sim, model = "BGGM", seed = 1)),
  ega_bggm = error_of(EGA(sim[1:24], model = "BGGM", plot.EGA = FALSE)),
  cor_auto = error_of(dynEGA(sim, corr = "cor_auto", seed = 1)),
  expand = error_of(dynEGA(sim, uni.method = "expand", seed = 1)),
  optimize = error_of(dynEGA(sim, n.embed = c(5, 7), seed = 1)),
  id_number = error_of(dynEGA(renamed, id = 99, seed = 1)),
  id_name = error_of(dynEGA(renamed, id = "participant", seed = 1)),
  id_fraction = error_of(dynEGA(renamed, id = 2.5, seed = 1)),
  not_data = error_of(dynEGA("sim.csv", seed = 1)),
  rotation = error_of(net.loads(matrix(0.3, 3, 3), wc = c(1, 1, 1), rotation = "oblimin"))
), "errors")

# The EGAnet-style example script, unchanged
example_objects <- new.env()
grDevices::pdf(file.path(out, "example_plots.pdf"))
printed <- utils::capture.output(sys.source(example, envir = example_objects),
                                 type = "output")
grDevices::dev.off()
writeLines(printed, file.path(out, "example_output.txt"))
for (name in ls(example_objects)) save(get(name, envir = example_objects),
                                       paste0("example_", name))
