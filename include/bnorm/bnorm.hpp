// The whole public API of the bnorm BatchNorm library.
#pragma once

#include "bnorm/batch_norm.hpp"
#include "bnorm/batch_renorm.hpp"
#include "bnorm/error.hpp"
#include "bnorm/functional.hpp"
#include "bnorm/ghost_batch_norm.hpp"
#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"
