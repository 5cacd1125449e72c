// libcurl for the HTTPClient target. curl_easy_setopt/getinfo are variadic, which
// Swift cannot call, so each argument type gets a typed static inline wrapper.
#ifndef OVERCAST_CCURL_SHIM_H
#define OVERCAST_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode overcast_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode overcast_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode overcast_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode overcast_curl_setopt_write_function(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
/// CURLOPT_PREREQFUNCTION (libcurl 7.80): called once the connection is made, just before
/// the request goes out.
static inline CURLcode overcast_curl_setopt_prereq_function(CURL *h, int (*f)(void *, char *, char *, int, int)) {
    return curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, f);
}
/// CURLOPT_READFUNCTION: where an upload (an SMTP message) takes its bytes from.
static inline CURLcode overcast_curl_setopt_read_function(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_READFUNCTION, f);
}
/// CURLOPT_SOCKOPTFUNCTION: called with each socket libcurl opens, before it binds or
/// connects it (the checkers' fwmark, bind_if, bindto and bind_port).
static inline CURLcode overcast_curl_setopt_sockopt_function(CURL *h, int (*f)(void *, curl_socket_t, curlsocktype)) {
    return curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, f);
}
static inline CURLcode overcast_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode overcast_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
#endif
