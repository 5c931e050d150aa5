#ifndef DNSWATCH_CLDNS_SHIM_H
#define DNSWATCH_CLDNS_SHIM_H
#include <ldns/ldns.h>
#endif
