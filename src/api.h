/* api.h - the HTTP API as a library: JSON request bodies -> raw records ->
 * rdm_model_score -> JSON response bodies, and the JSON error shape
 *     {"error": {"code": "...", "message": "...", "field": "..." | null}}
 * The FastCGI worker (fcgi/) is a thin layer over these functions, so every
 * case here is unit-testable without a server. */
#ifndef RDM_API_H
#define RDM_API_H

#include "model.h"
#include "readmit.h"
#include "schema.h"

/* HTTP statuses used by the API. */
enum {
    RDM_HTTP_OK = 200,
    RDM_HTTP_BAD_REQUEST = 400,
    RDM_HTTP_NOT_FOUND = 404,
    RDM_HTTP_METHOD = 405,
    RDM_HTTP_TOO_LARGE = 413,
    RDM_HTTP_UNPROCESSABLE = 422,
    RDM_HTTP_INTERNAL = 500,
    RDM_HTTP_UNAVAILABLE = 503,
};

/* Longest accepted string value (bytes); longer values are rejected with 422. */
#define RDM_API_MAX_VALUE 256

/* An API error: HTTP status, stable machine code ("malformed_json",
 * "unknown_field", "wrong_type", "out_of_range", "too_many_instances",
 * "no_model", ...), a message for people, the offending field ("" = none) and,
 * for malformed JSON, the byte offset (-1 = none). */
typedef struct rdm_api_error {
    int status;
    char code[32];
    char message[256];
    char field[96];
    long position;
} rdm_api_error;

/* Fill `e` (status, code, field may be NULL) and return `status`. */
int rdm_api_seterr(rdm_api_error *e, int status, const char *code, const char *field,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Append the JSON error body for `e` to `out`. */
int rdm_api_error_json(const rdm_api_error *e, rdm_buf *out) __attribute__((warn_unused_result));

/* One record of a prediction request: raw values indexed by schema column,
 * exactly as rdm_model_score takes them (NULL = missing). The strings are
 * owned by the request. `id` is the echoed encounter_id as JSON text ("" when
 * absent). */
typedef struct rdm_api_record {
    const char *values[RDM_NCOLS];
    char id[48];
} rdm_api_record;

/* A parsed prediction request. Initialise with RDM_API_REQUEST_INIT; free
 * with rdm_api_request_release(). */
typedef struct rdm_api_request {
    rdm_api_record *recs;
    size_t n;
    int batch;   /* 1: {"instances": [...]}, answered with a list */
    void *json;  /* parsed document (owns borrowed string values) */
    char *arena; /* numbers rendered as text */
    size_t arena_len, arena_cap;
    int explain; /* 1: "explain": true, answer with contributions */
} rdm_api_request;

#define RDM_API_REQUEST_INIT            \
    {                                   \
        NULL, 0, 0, NULL, NULL, 0, 0, 0 \
    }

/* Parse and validate a POST /api/v1/predict body (`len` bytes, may hold NULs)
 * into `req`. Accepts one record object or {"instances": [objects]} with 1 to
 * `max_instances` records. Keys are schema column names (plus encounter_id,
 * echoed, never a feature); values strings or numbers; null, "" and "?" mean
 * missing. "explain": true|false next to the fields of one record or next to
 * "instances" asks for contributions (req->explain). Returns RDM_HTTP_OK, or the HTTP status with
 * `e` filled: 400 malformed JSON (with the byte offset), 422 not an object / unknown field / wrong
 * type / out of range / too many instances. On failure `req` is left empty. */
int rdm_api_parse_predict(const char *body, size_t len, long max_instances, rdm_api_request *req,
                          rdm_api_error *e);
void rdm_api_request_release(rdm_api_request *req);

/* The same, always through jansson (rdm_api_parse_predict first tries a fast
 * path for plain flat records and falls back to this). For tests. */
int rdm_api_parse_predict_jansson(const char *body, size_t len, long max_instances,
                                  rdm_api_request *req, rdm_api_error *e);

/* rdm_api_parse_predict() that also describes the body when its fast path
 * took it (a flat record, or {"instances": [...]} of them, of plain strings,
 * small integers and nulls): appended to `layout` (may be NULL), where each
 * record lies and, key by key in the order sent, the column named and where
 * the value lies, so that a later reader of the same bytes (the prediction
 * log's writer, predfields.h) need not scan them again. Nothing is appended
 * when the body went to jansson or a record is longer than 65,535 bytes.
 * Native byte order (one machine):
 *   uint32 records, uint32 batch (1: {"instances": [...]}); per record:
 *   uint32 off, uint32 len (the record's bytes in the body, braces
 *   included), uint16 keys; per key RDM_API_LAYOUT_KEY
 *   bytes: uint8 column (RDM_NCOLS for "encounter_id"), uint8 kind
 *   (RDM_API_LAYOUT_*), uint16 value length, uint16 value offset from the
 *   record's first byte (a string's bytes without its quotes). */
int rdm_api_parse_predict_layout(const char *body, size_t len, long max_instances,
                                 rdm_api_request *req, rdm_api_error *e, rdm_buf *layout);

enum { RDM_API_LAYOUT_STRING = 0, RDM_API_LAYOUT_NUMBER = 1, RDM_API_LAYOUT_NULL = 2 };

#define RDM_API_LAYOUT_KEY 6

/* What the server knows about the model it serves (all borrowed). */
typedef struct rdm_api_model {
    const rdm_model *model;
    const char *name;    /* registered model name */
    const char *version; /* registry version ("" when loaded from a file) */
    const char *alias;   /* "champion", or "" */
    const char *sha256;  /* artifact checksum, or "" */
    /* for "explain": true (NULL: built for the request, slower) */
    const struct rdm_explainer *explainer;
    const char *metrics; /* the run's metrics as a JSON object text, or NULL / "" (none) */
} rdm_api_model;

/* Score a parsed request with the one scoring path and append the response
 * body to `out`. With req->explain each prediction adds "base_value" and
 * "contributions": [{"field", "value", "contribution"}] over every input
 * field by decreasing |contribution| (log-odds, explain.h). Returns RDM_HTTP_OK, or 422 with `e`
 * filled when the model rejects a value (field named). */
int rdm_api_score(const rdm_api_model *am, const rdm_api_request *req, rdm_buf *out,
                  rdm_api_error *e);

/* The whole POST /api/v1/predict: parse, score, respond. `am` NULL (no model
 * loaded) answers 503. Always appends a body to `out` (response or error) and
 * returns the HTTP status. */
int rdm_api_predict(const rdm_api_model *am, const char *body, size_t len, long max_instances,
                    rdm_buf *out);

/* GET /api/v1/model: name, version, alias, type, threshold, metadata (when
 * trained, data snapshot), the run's metrics by split ({} when unknown) and
 * the input schema (fields, types,
 * categories, ranges) the web form is built from. Appends to `out`. */
int rdm_api_model_json(const rdm_api_model *am, rdm_buf *out) __attribute__((warn_unused_result));

/* Append `s` (`n` bytes) as a JSON string literal with quotes; invalid UTF-8
 * bytes become U+FFFD, control characters are escaped. */
int rdm_api_json_str(rdm_buf *out, const char *s, size_t n) __attribute__((warn_unused_result));

#endif
