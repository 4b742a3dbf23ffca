/* learn.h — token statistics learned from labeled comments.
 *
 * Regex rules catch what an operator can name; the rest of the spam and
 * abuse a site gets is better told apart by which words it uses. A model
 * counts, for every token (word or pair of words of the norm view), in how
 * many positive comments (spam, or abusive) and negative ones (approved) it
 * appeared, and scores a new comment the way SpamBayes and SpamAssassin's
 * Bayes do: Robinson's per-token probability, the 150 most telling tokens
 * combined with Fisher's chi-square method. The score is in [0, 1]: near 1
 * the comment looks like the positives, near 0 like the negatives, 0.5 when
 * the model knows too little. Tokens are kept only as 64-bit hashes, so a
 * model holds counts, not the commenters' words.
 *
 * A model is built by `raqib rules train` (from a labeled file or from the
 * moderators' decisions in Redis), saved as a text file, and read by the
 * rules loader for `learned` conditions. Once loaded it is immutable and
 * shared read-only between threads. Pure module. */
#ifndef RAQIB_LEARN_H
#define RAQIB_LEARN_H

#include <stddef.h>
#include <stdint.h>

struct learn_model;

/* An empty model; NULL when out of memory. */
struct learn_model *learn_model_new(void);
void learn_model_free(struct learn_model *m);

/* Count one comment's text (already folded to the norm view) as positive
 * (positive != 0) or negative. Each token counts once per comment. 0, or -1
 * when out of memory. */
int learn_model_add(struct learn_model *m, const char *norm, size_t len, int positive);

/* How likely the text (norm view) is a positive, in [0, 1]; 0.5 when the
 * model has no positive or no negative comment, or no token of the text is
 * telling. Thread-safe on a model no one is adding to. */
double learn_model_score(const struct learn_model *m, const char *norm, size_t len);

/* Score with a site's own counts added to the model's (live learning:
 * live.h): each token's counts and the comment totals are the sums, so a
 * site's decisions weigh as many training comments would. site NULL or
 * empty scores exactly as learn_model_score. site must count the same
 * tokens (learn_model_get_tokens) as m. */
double learn_model_score_site(const struct learn_model *m, const struct learn_model *site, const char *norm,
                              size_t len);

/* The tokens of one text listed once for every model that scores it: the
 * shipped rules score a words model and a words-and-n-grams model on the
 * same norm view, and one tokenization serves both. Owns its lists; norm
 * is borrowed and must outlive it. */
struct learn_text {
    const char *norm;
    size_t len;
    unsigned kinds;             /* the tokens listed (LEARN_TOKENS_*) */
    uint64_t *all, *words;      /* every token in order (a repeated word's n-grams
                                   left out), and the word-level ones alone */
    size_t nall, nwords;
    int all_full, words_full;   /* a list ran out of room: score the text itself */
};

/* List the tokens of kinds of norm[0..len) (kinds: the union of the models'
 * that will score it). 0, or -1 when out of memory (t then scores each
 * model from the text, as learn_model_score_site does). */
int learn_text_list(struct learn_text *t, const char *norm, size_t len, unsigned kinds);

/* learn_model_score_site(m, site, t->norm, t->len), to the last bit, from
 * the lists. */
double learn_text_score(const struct learn_text *t, const struct learn_model *m, const struct learn_model *site);
void learn_text_free(struct learn_text *t);

/* A clue index of m's counts and site's together, the probabilities
 * learn_model_score_site finds, so that a site whose moderators taught it
 * scores as cheaply as one with no counts: with a site's counts the
 * comment totals change, so every token's probability does and m's own
 * index no longer applies. Holds no counts: only for
 * learn_text_score_joint, and only while neither m nor site changes (the
 * caller keeps it with their versions). NULL when out of memory. Freed by
 * learn_model_free. */
struct learn_model *learn_model_joint_index(const struct learn_model *m, const struct learn_model *site);

/* learn_text_score(t, m, site), to the last bit, read from joint (made by
 * learn_model_joint_index(m, site) from these very counts). joint NULL:
 * learn_text_score. */
double learn_text_score_joint(const struct learn_text *t, const struct learn_model *m, const struct learn_model *site,
                              const struct learn_model *joint);

/* A number no other model made in this process has had: tells a model
 * from one made later at the same address. */
unsigned long learn_model_serial(const struct learn_model *m);

/* A copy of m's counts (not its clue index); NULL when out of memory. */
struct learn_model *learn_model_copy(const struct learn_model *m);

/* The distinct tokens learn_model_add would count for this text, in a
 * malloc'd array in *out (the caller frees it). Returns how many, or -1
 * when out of memory. A daemon ships these to Redis when a moderator
 * decides, so every daemon can add (or, on a correction, take back) the
 * very tokens counted. */
long learn_doc_tokens(unsigned kinds, const char *norm, size_t len, uint64_t **out);

/* Count (delta > 0) or take back (delta < 0) one comment of the given side
 * holding tokens: each token's count and the side's comment count move by
 * one; counts never go below zero. With max_tokens (0: no bound) a model
 * holding that many tokens adds no new ones (their counts are dropped;
 * known tokens still move), which bounds a site's memory. 0, or -1 when
 * out of memory. */
int learn_model_apply(struct learn_model *m, const uint64_t *tokens, size_t n, int positive, int delta,
                      size_t max_tokens);

/* Add counts as they are kept elsewhere (a site's counts read back from
 * Redis): a token's, and the comments'. add_counts: 0, or -1 when out of
 * memory or token is 0. */
int learn_model_add_counts(struct learn_model *m, uint64_t token, unsigned long pos, unsigned long neg);
void learn_model_add_docs(struct learn_model *m, unsigned long pos, unsigned long neg);

/* Which moderator decisions a model counts: comma lists of statuses
 * ("spam" positive, "approved,rejected" negative), kept in the file as a
 * line "labels POSITIVE NEGATIVE" (written by `rules train` from
 * --positive/--negative). set: 0, or -1 when a list is not lowercase
 * words joined by commas. labels: the list, or NULL when none is set. */
int learn_model_set_labels(struct learn_model *m, const char *positive, const char *negative);
const char *learn_model_labels(const struct learn_model *m, int positive);
/* 1 when status is a positive label, 0 a negative one, -1 neither (or the
 * model has no labels). */
int learn_model_label_side(const struct learn_model *m, const char *status);

/* Comments counted: positive (positive != 0) or negative. */
unsigned long learn_model_docs(const struct learn_model *m, int positive);
/* Distinct tokens held. */
size_t learn_model_tokens(const struct learn_model *m);
/* Bytes the model's tables take. */
size_t learn_model_bytes(const struct learn_model *m);

/* Where training from a site's decisions feed stopped, kept in the model
 * file so `rules train --redis --add` goes on from there: the feed cursor
 * for site, or NULL when the model was not trained from that site's feed.
 * set returns 0, or -1 when site or cursor is too long. */
const char *learn_model_feed_cursor(const struct learn_model *m, const char *site);
int learn_model_set_feed_cursor(struct learn_model *m, const char *site, const char *cursor);

/* Write the model to path (through a temporary file and rename, so a
 * daemon reloading never reads half a model), keeping only tokens seen in
 * at least min_count comments. Returns how many were kept, or -1 with a
 * sentence in err. */
long learn_model_save(const struct learn_model *m, const char *path, unsigned min_count,
                      char *err, size_t errlen);

/* Read a model written by learn_model_save. NULL with "path:line: what is
 * wrong" (or the system's reason) in err. */
struct learn_model *learn_model_load(const char *path, char *err, size_t errlen);

/* Which tokens a model counts. Words (with pairs and Arabic stems) always;
 * LEARN_TOKENS_CHARS adds the character 3- to 5-grams of every word, marked
 * at the word's start and end (recorded in the file as "tokens words+chars";
 * a file without that line is words only, as every model before it). */
enum { LEARN_TOKENS_WORDS = 0, LEARN_TOKENS_CHARS = 1 };

/* Choose the tokens of a model no comment was added to yet. 0, or -1 when
 * the model already holds counts (they were made with other tokens). */
int learn_model_set_tokens(struct learn_model *m, unsigned kinds);
unsigned learn_model_get_tokens(const struct learn_model *m);

/* The tokens of a norm-view text, each as its hash, in order: words (runs of
 * letters, marks and digits of two or more characters; runs of five or more
 * digits become one token per length, so phone numbers generalize) and each
 * pair of neighbouring words; with LEARN_TOKENS_CHARS in kinds, after each
 * word its character n-grams. fn returns non-zero to stop. learn_tokens is
 * words only. For tests and the model itself. */
typedef int (*learn_token_fn)(uint64_t hash, void *arg);
void learn_tokens(const char *norm, size_t len, learn_token_fn fn, void *arg);
void learn_tokens_of(const char *norm, size_t len, unsigned kinds, learn_token_fn fn, void *arg);

#endif
