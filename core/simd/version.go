package simd

import "prefer/core/simd/module"

// moduleVersion is the kernel module interface this program expects.
const moduleVersion = module.Version
