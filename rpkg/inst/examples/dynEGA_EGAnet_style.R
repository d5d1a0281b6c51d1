# Dynamic EGA written the EGAnet way: this script follows EGAnet 2.5.0's documented
# examples and runs with library(pybridge) where an EGAnet user writes
# library(EGAnet). Two data sets, given as CSV files:
#   SIM_DYNEGA_CSV      EGAnet's simulated data sim.dynEGA (V1..V24, ID, Group)
#   EMOTION_SCORES_CSV  emotion scores of a real video, one row per frame: six
#                       emotion columns and a 'segment' column (the id) in column 7
library(pybridge)

sim.dynEGA <- read.csv(Sys.getenv("SIM_DYNEGA_CSV"))

# Population structure
simulated_population <- dynEGA(data = sim.dynEGA, level = "population", seed = 1)

# Population, group and individual structure
simulated_all <- dynEGA(
  data = sim.dynEGA,
  level = c("individual", "group", "population"),
  ncores = 2, verbose = TRUE, seed = 1
)
summary(simulated_all)

plot(simulated_all$dynEGA$population)
plot(simulated_all$dynEGA$group)
plot(simulated_all$dynEGA$individual, id = 1)

# EGA, fit and loadings of the population derivatives
derivatives <- simulated_all$Derivatives$EstimatesDF[, 1:24]
ega.derivatives <- EGA(data = derivatives, plot.EGA = FALSE, seed = 1)
summary(ega.derivatives)
fit <- tefi(ega.derivatives)
loadings <- net.loads(A = ega.derivatives)
scores <- net.scores(data = derivatives, A = ega.derivatives)

# The derivatives of one series, and its embedding
derivative.V1 <- glla(sim.dynEGA$V1[sim.dynEGA$ID == 1], n.embed = 5, tau = 1,
                      delta = 1, order = 2)
embedding <- Embed(x = 49:56, E = 5, tau = 1)

# Emotions scored frame by frame from a video: the call of published dynEGA
# studies of emotion series (id = column 7)
network.ds <- read.csv(Sys.getenv("EMOTION_SCORES_CSV"))
emotions.dyn <- dynEGA(data = network.ds, n.embed = 10, tau = 1, delta = 1,
                       level = "population", id = 7, use.derivatives = 1,
                       algorithm = "louvain", seed = 7, verbose = FALSE)
print(emotions.dyn)
emotions.individual <- dynEGA(data = network.ds, id = "segment", n.embed = 10,
                              level = c("population", "individual"),
                              algorithm = "fast_greedy", seed = 7, verbose = FALSE)
plot(emotions.individual)
