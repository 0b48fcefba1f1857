package org.diffusion4j.train.nn;

/**
 * A raw network with two times, F(x, c_noise(σ), c_noise(σ′)[, labels]): the network of a flow-map model
 * G(x̂, σ, σ′) (Kim et al. 2024, Consistency Trajectory Models; Geng et al. 2025, Mean Flows). Its forward
 * takes {@code NDList(x, c, c′)} or {@code NDList(x, c, c′, labels)}; without c′ it is the σ′ = σ model.
 * {@link NetworkDenoiser} passes c_noise of the conditioning's target level σ′ when there is one.
 */
public interface TwoTimeNetwork {}
