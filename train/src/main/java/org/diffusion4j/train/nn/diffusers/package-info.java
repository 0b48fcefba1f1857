/**
 * diffusers' pixel-space {@code UNet2DModel} (Ho et al. 2020's DDPM U-Net as the diffusers library lays it
 * out, v0.25) on the JVM: {@link org.diffusion4j.train.nn.diffusers.UNet2DConfig} from {@code config.json},
 * the network {@link org.diffusion4j.train.nn.diffusers.UNet2DModel}, its checkpoints
 * ({@link org.diffusion4j.train.nn.diffusers.Checkpoints}), the scheduler configuration
 * ({@link org.diffusion4j.train.nn.diffusers.SchedulerConfig}), the model as a denoiser on its discrete DDPM
 * process ({@link org.diffusion4j.train.nn.diffusers.DiffusersDenoiser}), a model directory
 * ({@link org.diffusion4j.train.nn.diffusers.DiffusersModel}), the grids of diffusers' schedulers
 * ({@link org.diffusion4j.train.nn.diffusers.DiffusersGrids}) and the writer of a run trained with this
 * architecture as a diffusers model directory ({@link org.diffusion4j.train.nn.diffusers.DiffusersExport}).
 */
package org.diffusion4j.train.nn.diffusers;
