#include "embedd_plugin.h"
int embedd_plugin_entry(void) { return 0; }
