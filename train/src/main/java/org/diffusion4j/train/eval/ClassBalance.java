package org.diffusion4j.train.eval;

/**
 * What a classifier says about a set of generated images: the mean confidence (largest class
 * probability), the histogram of predicted classes and its entropy relative to uniform
 * ({@code H/ln K}, 1 when every class is equally frequent; the "diversity" half of the Inception score,
 * Salimans et al. 2016, with the project's classifier).
 *
 * @param confidence mean max-probability, in [1/K, 1]
 * @param histogram counts per predicted class
 * @param balance normalised entropy of the histogram, in [0, 1]
 */
public record ClassBalance(double confidence, long[] histogram, double balance) {

  /** From softmax probabilities row-major n·K. */
  public static ClassBalance of(double[] probabilities, int classes) {
    int n = Points.check(probabilities, classes, 1, "probability");
    long[] h = new long[classes];
    double conf = 0;
    for (int i = 0; i < n; i++) {
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (probabilities[i * classes + c] > probabilities[i * classes + best]) {
          best = c;
        }
      }
      h[best]++;
      conf += probabilities[i * classes + best];
    }
    double ent = 0;
    for (long c : h) {
      if (c > 0) {
        double p = c / (double) n;
        ent -= p * Math.log(p);
      }
    }
    return new ClassBalance(conf / n, h, ent / Math.log(classes));
  }
}
