/**
 * Networks: the raw network F of the frame and its wrapping into a denoiser.
 *
 * <p>Contract of every network here: a DJL {@code Block} whose forward takes {@code NDList(x, cNoise)}
 * or {@code NDList(x, cNoise, labels)} — x {@code [n, …]} already multiplied by c_in, c_noise
 * {@code [n]} float, labels {@code [n]} int (optional; the value K = classes is the learned null
 * label) — and returns {@code NDList(F)} shaped like x. Build one from a {@link
 * org.diffusion4j.train.nn.NetworkConfig} ({@link org.diffusion4j.train.nn.MlpConfig},
 * {@link org.diffusion4j.train.nn.UNetConfig}), initialise it with
 * {@code block.initialize(manager, FLOAT32, xShape)} (seed the engine first for reproducible
 * weights), and wrap it with a core {@code Preconditioning} in a
 * {@link org.diffusion4j.train.nn.NetworkDenoiser}. Parameters are named by DJL's block paths
 * (e.g. {@code 04down0_0_01norm0_gamma} in the unconditional U-Net).
 */
package org.diffusion4j.train.nn;
