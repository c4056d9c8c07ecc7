/* placeholder, replaced by the ABI issue */
#ifndef EMBEDD_PLUGIN_H
#define EMBEDD_PLUGIN_H
#endif
