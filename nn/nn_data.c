#include "nn_data.h"
