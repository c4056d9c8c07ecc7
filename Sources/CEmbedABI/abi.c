#include "embedd_plugin.h"
