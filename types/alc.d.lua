---@meta
-- LuaCATS stubs for the Lua API that alc gives strategies: the `alc` table (Layer 0 in C,
-- Layer 1 in the prelude) and the `ctx` global. Never executed: lua-language-server reads it
-- as a library (see types/README.md). tests/lua/types_api.lua checks, through the real engine,
-- that every function declared here exists at run time and the other way round, so keep
-- declarations in the forms it parses:
--   `function alc.NAME(`, `function alc.SUB.NAME(`, `alc.SUB = {}` (preceded by its
--   `---@class`), and `---@field` lines of the class bound to `alc`.

-- ====================================================================== shared types

---The JSON null sentinel (a light userdata): JSON null in ctx, state and decoded JSON.
---@class alc.Null: lightuserdata

---Any value that survives a JSON round trip (tables must be arrays or string-keyed objects).
---@alias alc.Json nil|boolean|number|string|table|alc.Null

---Severity accepted by alc.log; any other string is logged as "info".
---@alias alc.LogLevel
---| "error" # failures
---| "warn"  # suspicious but recoverable
---| "info"  # normal progress (print also logs at this level)
---| "debug" # detail, e.g. alc.cache hits and misses

---Options of one LLM call; keys alc does not know are ignored.
---@class alc.LlmOpts
---@field system? string System prompt sent with the query (non-strings are ignored).
---@field max_tokens? integer Reply length limit for the host: an integer from 1 to 1000000 (default 1024); anything else raises.
---@field grounded? boolean Ask the host to answer from verifiable sources (default false).
---@field underspecified? boolean Tell the host the prompt may need clarification (default false).
---@field temperature? number Accepted for compatibility with original packages and ignored.
---@field model? string Accepted for compatibility with original packages and ignored.

---One query of alc.llm_batch: a prompt plus the options of alc.llm.
---@class alc.BatchItem: alc.LlmOpts
---@field prompt string The prompt text (required).

---Options of alc.cache: those of alc.llm plus cache control.
---@class alc.CacheOpts: alc.LlmOpts
---@field cache_key? string Explicit cache key instead of the fingerprint of prompt/system/max_tokens.
---@field cache_skip? boolean Call alc.llm directly, bypassing the cache and its counters.

---What alc.budget_remaining reports; alc.null where that dimension has no limit.
---@class alc.BudgetRemaining
---@field llm_calls integer|alc.Null LLM calls left before budget_exceeded.
---@field elapsed_ms integer|alc.Null Milliseconds left of the wall-clock budget.
---@field tokens integer|alc.Null Estimated tokens left of the token budget.

---Limits a run can carry in ctx.budget (integers; the engine reads them when the run starts).
---@class alc.Budget
---@field max_llm_calls? integer Maximum number of LLM queries for the whole run.
---@field max_elapsed_ms? integer Maximum wall-clock time of the run in milliseconds.
---@field max_tokens? integer Maximum estimated prompt + response tokens of the run.

---Options of alc.fork.
---@class alc.ForkOpts
---@field on_error? "skip"|"abort"|"fail" "skip" (default) reports failures per child; "abort"/"fail" raise on the first.

---One entry of the array alc.fork returns, in strategy order.
---@class alc.ForkResult
---@field strategy string The package name that ran.
---@field ok boolean Whether its run(ctx) returned normally.
---@field result? any The JSON copy of what run(ctx) returned (when ok).
---@field error? string The error message (when not ok).

---Result of alc.vote.
---@class alc.Vote
---@field winner string|nil The most frequent answer (trimmed tostring); nil for an empty list.
---@field count integer How many answers equal the winner (0 for an empty list).
---@field total integer The number of answers (#answers).

---Result of alc.cache_info.
---@class alc.CacheInfo
---@field entries integer Responses currently cached.
---@field hits integer Lookups answered from the cache since the last alc.cache_clear.
---@field misses integer Lookups that called alc.llm since the last alc.cache_clear.
---@field max_entries integer Capacity; the oldest entry is evicted beyond it (256).

---Options of alc.chunk.
---@class alc.ChunkOpts
---@field mode? "lines"|"chars" Unit of a window (default "lines"; chars are Unicode scalars).
---@field size? integer Units per window (default 50; 0 gives no chunks).
---@field overlap? integer Units shared by neighbouring windows (default 0).

---Options of alc.match_enum.
---@class alc.MatchEnumOpts
---@field threshold? number Minimum Jaro-Winkler similarity for the fuzzy phase (default 0.7).

---Options of alc.parallel.
---@class alc.ParallelOpts
---@field system? string System prompt for prompts given as plain strings.
---@field max_tokens? integer max_tokens for prompts given as plain strings.
---@field post_fn? fun(response: string, item: any, i: integer): any Maps each response; its value replaces it.

---Options of alc.pipe.
---@class alc.PipeOpts
---@field on_error? "abort"|"skip"|"continue" "abort" (default) propagates a stage error; others record it and go on.
---@field on_stage? fun(i: integer, name: string, ctx: alc.Ctx) Called after each successful stage.

---One entry of ctx.pipe_history, appended by alc.pipe per stage.
---@class alc.PipeHistoryEntry
---@field strategy string Package name, or "(inline-i)" for a function stage.
---@field result? any ctx.result after a successful stage.
---@field error? string The error of a failed stage (on_error other than "abort").

---Options of alc.eval.
---@class alc.EvalOpts
---@field strategy_opts? table ctx fields given to the strategy for every case (deep-copied per case).

---A scenario for alc.eval (see packages/evalframe/init.lua for every field).
---@class alc.EvalScenario
---@field name? string Scenario name shown in the report ("inline" otherwise).
---@field cases {input: string|number, expected?: any, tags?: string[], ctx?: table, name?: string, rubric?: string}[] Non-empty.
---@field graders? (string|table|function)[] Grader names, {name, opts...} tables or functions (default {"exact_match"}).
---@field pass_threshold? number Score at which a numeric grade passes (default 1).
---@field extract? fun(raw: any, case: table): string The answer text to grade.
---@field provider? fun(ctx: table, case: table): any Replaces running the strategy.

---The report of alc.eval.
---@class alc.EvalReport
---@field name string "<strategy>:<scenario name or inline>".
---@field strategy? string Strategy package name.
---@field scenario string Scenario name or "inline".
---@field aggregated {total: integer, passed: integer, failed: integer, errors: integer, pass_rate: number, pass_at_1: number, scores: {n: integer, mean: number, std_dev: number, min: number, max: number, median: number}, ci_95: {lower: number, upper: number}, by_tag: table<string, {total: integer, passed: integer, pass_rate: number, mean_score: number}>}
---@field results table[] Per-case {index, name?, input, expected?, tags?, output, score, passed, grades, error?, llm_calls, elapsed_ms}.
---@field failures table[] Failed cases {index, name?, input, expected?, output, score, reasons, error?}.
---@field summary string One line: "name: 7/10 passed (70.0%), mean score 0.750".

---Options of alc.tuning.
---@class alc.TuningOpts
---@field prefix? string Read overrides from ctx[prefix] instead of ctx itself.

---The ctx global: the JSON object given to alc_run (an empty table when none was given).
---@class alc.Ctx
---@field task? string Conventional input: the problem most strategies read.
---@field result? any Conventional output slot of a stage (alc.pipe reads it).
---@field budget? alc.Budget Limits of this run.
---@field _ns? string Namespace of alc.state for this run (default "default").
---@field pipe_history? alc.PipeHistoryEntry[] Stage log that alc.pipe keeps on the ctx it passes on.
---@field [string] any Any other key the caller supplied.

---Metadata table a strategy package exports as M.meta.
---@class alc.StrategyMeta
---@field name string Package name (as passed to require / alc.fork).
---@field version? string Package version.
---@field description? string One-line description.
---@field category? string Free-form category, e.g. "reasoning".

---The module a strategy package returns: alc runs M.run(ctx) and JSON-encodes its value.
---@class alc.Strategy
---@field meta? alc.StrategyMeta Package metadata.
---@field defaults? table Tunable defaults, usually merged with alc.tuning.
---@field run fun(ctx: alc.Ctx): table Entry point; returns the result (often ctx with ctx.result set).

---Seeded random number generator from alc.math.rng_create (opaque userdata).
---@class alc.Rng: userdata

---Result of alc.math.wilson_ci.
---@class alc.WilsonCI
---@field lower number Lower bound, clamped to [0, 1].
---@field upper number Upper bound, clamped to [0, 1].
---@field center number Centre of the interval.

---Result of alc.math.welch_t_test (two-sided).
---@class alc.WelchResult
---@field t number The t statistic (±inf when both samples have zero variance and different means).
---@field t_stat number Same value as t.
---@field df number Welch-Satterthwaite degrees of freedom.
---@field p_value number Two-sided p-value.

-- ====================================================================== ctx

---The context of this run, decoded from the alc_run `ctx` argument.
---@type alc.Ctx
ctx = {}

-- ====================================================================== alc (Layer 0)

---The alc standard library available to every strategy.
---@class alc
---@field null alc.Null The JSON null sentinel; alc.json_encode turns it back into null.
alc = {}

---Asks the host LLM one question and waits for its answer. Raises budget_exceeded / cancelled.
---@param prompt string The prompt text.
---@param opts? alc.LlmOpts Call options.
---@return string answer The host's reply.
function alc.llm(prompt, opts) end

---Sends several queries as one request and waits for all answers (raises on an empty list).
---@param items alc.BatchItem[] The queries, each with a string prompt.
---@return string[] answers The replies in input order.
function alc.llm_batch(items) end

---Reports what is left of the run's budget.
---@return alc.BudgetRemaining|nil remaining nil when the run has no budget at all.
function alc.budget_remaining() end

---Publishes progress for alc_status.
---@param step integer Current step.
---@param total integer Number of steps.
---@param msg? string Optional description of the step.
function alc.progress(step, total, msg) end

---Writes a line to the session log (seen in alc_status / alc_log_view).
---@param level alc.LogLevel Severity.
---@param msg any The message (converted with tostring).
function alc.log(level, msg) end

---Current time.
---@return number seconds Unix time in seconds, with a fractional part.
function alc.time() end

---Encodes a value as compact JSON with sorted object keys (raises on functions, cycles, mixed keys).
---@param value any The value to encode.
---@return string json The JSON text.
function alc.json_encode(value) end

---Decodes JSON text; null becomes alc.null, arrays keep an array marker (raises on bad JSON).
---@param text string The JSON text.
---@return any value The decoded value.
function alc.json_decode(text) end

---Runs strategy packages concurrently on copies of ctx, each in its own VM, and collects results.
---@param strategies string[] Package names (letters, digits, '_', '-', '.'), at most 64.
---@param ctx? table Context copied (as JSON) to every child; nil means {}.
---@param opts? alc.ForkOpts Error handling.
---@return alc.ForkResult[] results One entry per strategy, in order.
function alc.fork(strategies, ctx, opts) end

---Picks the candidate named in a model reply: rightmost substring hit, else best fuzzy token match.
---@param text string The reply to search.
---@param candidates string[] Allowed values.
---@param opts? alc.MatchEnumOpts Fuzzy threshold.
---@return string|nil match The matching candidate in its original casing, or nil.
function alc.match_enum(text, candidates, opts) end

---Reads a yes/no verdict from a reply (approved/yes/ok/... vs rejected/no/deny/...); the last word wins.
---@param text string The reply to search.
---@return boolean|nil verdict true, false, or nil when no verdict word occurs.
function alc.match_bool(text) end

---Splits text into overlapping windows of lines or characters.
---@param text string The text to split.
---@param opts? alc.ChunkOpts Unit, window size and overlap.
---@return string[] chunks The windows in order ({} for empty text or size 0).
function alc.chunk(text, opts) end

-- ---------------------------------------------------------------------- alc.stats

---Custom metrics of the session, reported under stats.custom.
---@class alc.Stats
alc.stats = {}

---Records a custom metric (last write wins).
---@param key string Metric name.
---@param value alc.Json Any JSON-encodable value.
function alc.stats.record(key, value) end

---Reads a custom metric recorded in this session.
---@param key string Metric name.
---@return any value The recorded value, or nil.
function alc.stats.get(key) end

---Number of LLM calls this session has made so far.
---@return integer calls
function alc.stats.llm_calls() end

-- ---------------------------------------------------------------------- alc._dirs

---Absolute paths of alc's directories under ALC_HOME (the same fields as the original's).
---@class alc.Dirs
---@field state string Where alc.state keeps its files ($ALC_HOME/state).
---@field cards string Where cards would live ($ALC_HOME/cards; this implementation has no card store).
---@field scenarios string Where alc.eval looks for a scenario given by name ($ALC_HOME/scenarios).
alc._dirs = {}

-- ---------------------------------------------------------------------- alc.state

---Persistent key/value store of the namespace ctx._ns ("default"; fork children "fork-i").
---@class alc.State
alc.state = {}

---Reads a stored value.
---@param key string The key.
---@param default? any Returned when the key is absent.
---@return any value The stored value, else default (or nil).
function alc.state.get(key, default) end

---Stores a value (replacing any previous one).
---@param key string The key.
---@param value alc.Json Any JSON-encodable value.
function alc.state.set(key, value) end

---Stores a value only if the key is absent.
---@param key string The key.
---@param value alc.Json Any JSON-encodable value.
---@return boolean written true if stored, false if the key already existed.
function alc.state.set_nx(key, value) end

---Lists the keys of the namespace (unordered).
---@return string[] keys
function alc.state.keys() end

---Removes a key.
---@param key string The key.
---@return boolean existed Whether the key was present.
function alc.state.delete(key) end

---Tells whether a key is present.
---@param key string The key.
---@return boolean present
function alc.state.has(key) end

---Adds delta to a numeric value (stored as a float); raises if the stored value is not a number.
---@param key string The key.
---@param delta? number Increment (default 1).
---@param default? number Start value when the key is absent (default 0).
---@return number value The new value.
function alc.state.incr(key, delta, default) end

---Reads a value, transforms it with fn and stores the result (not atomic across sessions).
---@param key string The key.
---@param fn fun(value: any): any Computes the new value from the current one.
---@param default? any Passed to fn when the key is absent.
---@return any value The new value.
function alc.state.update(key, fn, default) end

-- ---------------------------------------------------------------------- alc.math

---Numeric library: seeded RNG, samplers, descriptive statistics, tests and special functions.
---Array arguments must be non-empty sequences of finite numbers.
---@class alc.Math
alc.math = {}

---Creates a seeded random number generator (xoshiro256**).
---@param seed integer Any integer; equal seeds give equal sequences.
---@return alc.Rng rng
function alc.math.rng_create(seed) end

---Draws a float uniformly from [0, 1).
---@param rng alc.Rng
---@return number x
function alc.math.rng_float(rng) end

---Draws an integer uniformly from [lo, hi] (lo <= hi).
---@param rng alc.Rng
---@param lo integer Smallest value.
---@param hi integer Largest value.
---@return integer n
function alc.math.rng_int(rng, lo, hi) end

---Samples Normal(mean, stddev).
---@param rng alc.Rng
---@param mean number
---@param stddev number Standard deviation (>= 0).
---@return number x
function alc.math.normal_sample(rng, mean, stddev) end

---Samples Normal(mean, stddev) (short name of normal_sample).
---@param rng alc.Rng
---@param mean number
---@param stddev number Standard deviation (>= 0).
---@return number x
function alc.math.normal(rng, mean, stddev) end

---Samples LogNormal(mu, sigma): exp of a Normal(mu, sigma) draw.
---@param rng alc.Rng
---@param mu number Mean of the underlying normal.
---@param sigma number Standard deviation of the underlying normal (>= 0).
---@return number x
function alc.math.lognormal_sample(rng, mu, sigma) end

---Samples Gamma(shape, scale).
---@param rng alc.Rng
---@param shape number Shape k (> 0).
---@param scale number Scale theta (> 0).
---@return number x
function alc.math.gamma_sample(rng, shape, scale) end

---Samples Gamma(shape, scale) (short name of gamma_sample; not the Gamma function).
---@param rng alc.Rng
---@param shape number Shape k (> 0).
---@param scale number Scale theta (> 0).
---@return number x
function alc.math.gamma(rng, shape, scale) end

---Samples Beta(alpha, beta).
---@param rng alc.Rng
---@param alpha number Must be > 0.
---@param beta number Must be > 0.
---@return number x In [0, 1].
function alc.math.beta_sample(rng, alpha, beta) end

---The Beta function B(a, b); called as beta(rng, a, b) it samples Beta(a, b) instead.
---@param a number Must be > 0.
---@param b number Must be > 0.
---@return number value
---@overload fun(rng: alc.Rng, alpha: number, beta: number): number
function alc.math.beta(a, b) end

---Samples Exponential(rate).
---@param rng alc.Rng
---@param rate number Rate lambda (> 0).
---@return number x
function alc.math.exp_sample(rng, rate) end

---Samples Exponential(rate) (short name of exp_sample).
---@param rng alc.Rng
---@param rate number Rate lambda (> 0).
---@return number x
function alc.math.exponential(rng, rate) end

---Samples Uniform[low, high).
---@param rng alc.Rng
---@param low number
---@param high number Must be > low.
---@return number x
function alc.math.uniform_sample(rng, low, high) end

---Samples Uniform[low, high) (short name of uniform_sample).
---@param rng alc.Rng
---@param low number
---@param high number Must be > low.
---@return number x
function alc.math.uniform(rng, low, high) end

---Samples ChiSquared(df).
---@param rng alc.Rng
---@param df number Degrees of freedom (> 0).
---@return number x
function alc.math.chi_squared_sample(rng, df) end

---Samples Student's t(df).
---@param rng alc.Rng
---@param df number Degrees of freedom (> 0).
---@return number x
function alc.math.student_t_sample(rng, df) end

---Draws an index with probability proportional to its weight.
---@param rng alc.Rng
---@param weights number[] Non-negative weights, not all zero.
---@return integer index 1-based.
function alc.math.categorical_sample(rng, weights) end

---Draws an index with probability proportional to its weight (short name of categorical_sample).
---@param rng alc.Rng
---@param weights number[] Non-negative weights, not all zero.
---@return integer index 1-based.
function alc.math.categorical(rng, weights) end

---Samples a probability vector from Dirichlet(alphas).
---@param rng alc.Rng
---@param alphas number[] At least 2 concentrations, all > 0.
---@return number[] p Non-negative, sums to 1.
function alc.math.dirichlet_sample(rng, alphas) end

---Arithmetic mean.
---@param xs number[]
---@return number mean
function alc.math.mean(xs) end

---Sample variance (n - 1 denominator; 0 for one value).
---@param xs number[]
---@return number variance
function alc.math.variance(xs) end

---Sample standard deviation (square root of variance).
---@param xs number[]
---@return number stddev
function alc.math.stddev(xs) end

---Median (linear interpolation between the middle values).
---@param xs number[]
---@return number median
function alc.math.median(xs) end

---Percentile with linear interpolation between closest ranks.
---@param xs number[]
---@param p number Percentile in [0, 100].
---@return number value
function alc.math.percentile(xs, p) end

---Interquartile range (75th minus 25th percentile).
---@param xs number[]
---@return number iqr
function alc.math.iqr(xs) end

---Softmax of xs / temperature (numerically stable).
---@param xs number[]
---@param temperature? number Must be > 0 (default 1).
---@return number[] p Sums to 1.
function alc.math.softmax(xs, temperature) end

---Rescales to [0, 100] as ln(1 + x) / ln(1 + max) * 100 (x <= 0 gives 0; max must be > 0).
---@param xs number[]
---@return number[] scaled
function alc.math.log_normalize(xs) end

---log(sum(exp(x))) without overflow.
---@param xs number[]
---@return number value
function alc.math.logsumexp(xs) end

---Shannon entropy in nats of a probability vector (must sum to 1).
---@param ps number[]
---@return number nats
function alc.math.entropy(ps) end

---Wilson score interval of a binomial proportion.
---@param successes number In [0, total].
---@param total number Must be > 0.
---@param confidence? number Level in (0, 1) (default 0.95), or a z score when >= 1.
---@return alc.WilsonCI ci
function alc.math.wilson_ci(successes, total, confidence) end

---Welch's two-sample t-test (two-sided); each sample needs at least 2 values.
---@param a number[]
---@param b number[]
---@return alc.WelchResult result
function alc.math.welch_t_test(a, b) end

---Error function.
---@param x number
---@return number value
function alc.math.erf(x) end

---Complementary error function 1 - erf(x).
---@param x number
---@return number value
function alc.math.erfc(x) end

---ln |Gamma(x)| (+inf at the poles 0, -1, -2, ...).
---@param x number
---@return number value
function alc.math.lgamma(x) end

---ln B(a, b).
---@param a number Must be > 0.
---@param b number Must be > 0.
---@return number value
function alc.math.ln_beta(a, b) end

---Regularised incomplete beta function I_x(a, b).
---@param x number In [0, 1].
---@param a number Must be > 0.
---@param b number Must be > 0.
---@return number value
function alc.math.regularized_incomplete_beta(x, a, b) end

---Normal cumulative distribution function.
---@param x number
---@param mu? number Mean (default 0).
---@param sigma? number Standard deviation (> 0, default 1).
---@return number p
function alc.math.normal_cdf(x, mu, sigma) end

---Standard normal quantile (inverse CDF); -inf / +inf at 0 / 1.
---@param p number In [0, 1].
---@return number z
function alc.math.normal_ppf(p) end

---Log-odds ln(p / (1 - p)).
---@param p number In [0, 1].
---@return number value
function alc.math.logit(p) end

---Logistic function 1 / (1 + exp(-x)).
---@param x number
---@return number p
function alc.math.expit(x) end

-- ====================================================================== alc (Layer 1 prelude)

---DJB2 hash (8 lower-case hex digits) of tostring(str) after lower-casing and collapsing whitespace.
---@param str any Text to fingerprint.
---@return string hex
function alc.fingerprint(str) end

---alc.llm memoised per session (key: cache_key, else fingerprint of prompt, system, max_tokens).
---@param prompt string The prompt text.
---@param opts? alc.CacheOpts Call and cache options.
---@return string answer The cached or fresh reply.
function alc.cache(prompt, opts) end

---Counters of alc.cache.
---@return alc.CacheInfo info
function alc.cache_info() end

---Empties alc.cache and zeroes its counters.
function alc.cache_clear() end

---Maps fn over items (ipairs order).
---@generic T, U
---@param items T[] Input array.
---@param fn fun(item: T, i: integer): U Called with each item and its index.
---@return U[] results results[i] = fn(items[i], i).
function alc.map(items, fn) end

---Keeps the items for which fn is truthy, re-packed from index 1.
---@generic T
---@param items T[] Input array.
---@param fn fun(item: T, i: integer): any Predicate.
---@return T[] kept
function alc.filter(items, fn) end

---Folds items left to right; without init it starts from items[1].
---@generic T, A
---@param items T[] Input array.
---@param fn fun(acc: A, item: T, i: integer): A Combines the accumulator with one item.
---@param init? A Initial accumulator.
---@return A acc The final accumulator (nil for an empty list without init).
function alc.reduce(items, fn, init) end

---Majority vote over answers compared as trimmed strings; ties go to the first seen.
---@param answers any[] The answers.
---@return alc.Vote vote
function alc.vote(answers) end

---alc.llm with grounded = true (opts is copied, not modified).
---@param claim string The prompt.
---@param opts? alc.LlmOpts Call options.
---@return string answer
function alc.ground(claim, opts) end

---alc.llm with underspecified = true (opts is copied, not modified).
---@param prompt string The prompt.
---@param opts? alc.LlmOpts Call options.
---@return string answer
function alc.specify(prompt, opts) end

---alc.llm that returns default instead of raising (the error is logged at warn).
---@generic D
---@param prompt string The prompt.
---@param opts alc.LlmOpts|nil Call options.
---@param default D Returned when alc.llm raises.
---@return string|D answer
function alc.llm_safe(prompt, opts, default) end

---alc.llm expecting JSON: extracts a table from the reply, retrying once with a repair prompt.
---@param prompt string The prompt.
---@param opts? alc.LlmOpts Call options.
---@return table|nil value The decoded table, or nil if both replies had none.
---@return string raw The last raw reply.
function alc.llm_json(prompt, opts) end

---First run of digits in tostring(str), clamped to [1, 10]; default when there is none.
---@param str any Text containing a score.
---@param default? number Returned when no digits are found (default 5).
---@return number score
function alc.parse_score(str, default) end

---First number in text (or tonumber of pattern's first capture); nil if none or not a string.
---@param text any Text to search.
---@param pattern? string Lua pattern whose first capture (or match) is converted.
---@return number|nil value
function alc.parse_number(text, pattern) end

---Finds a JSON object or array in free text: whole text, ``` fences, then balanced {...} / [...].
---@param raw any Text to search (non-strings give nil).
---@return table|nil value The first candidate that decodes to a table.
function alc.json_extract(raw) end

---false once any budget dimension (calls, time, tokens) is used up; true without a budget.
---@return boolean ok
function alc.budget_check() end

---Merges overrides from ctx (or ctx[opts.prefix]) into defaults; only keys of defaults are kept.
---@generic T
---@param defaults T Default settings (dict-like sub-tables merge recursively; `_schema` is dropped).
---@param ctx any Source of overrides (non-tables mean none).
---@param opts? alc.TuningOpts Prefix selection.
---@return T settings
function alc.tuning(defaults, ctx, opts) end

---Builds one prompt per item and sends them all as a single alc.llm_batch.
---@generic T
---@param items T[] Non-empty array.
---@param prompt_fn fun(item: T, i: integer): string|alc.BatchItem Prompt (or full query) for one item.
---@param opts? alc.ParallelOpts Shared options and post-processing.
---@return any[] results Replies (or post_fn values) in item order.
function alc.parallel(items, prompt_fn, opts) end

---Runs stages in sequence on a copy of ctx; each stage's ctx.result becomes the next ctx.task.
---@param strategies (string|fun(ctx: alc.Ctx): table)[] Package names or functions.
---@param ctx table Initial context (copied, not modified).
---@param opts? alc.PipeOpts Error handling and stage callback.
---@return alc.Ctx ctx The final context, with pipe_history.
function alc.pipe(strategies, ctx, opts) end

---string.format that rounds floats for %d, prints NaN/Inf and nil, and coerces numeric strings.
---@param fmt string Format string (string.format syntax).
---@param ... any Values.
---@return string text
function alc.fmt(fmt, ...) end

---alc.log(level, alc.fmt(fmt, ...)).
---@param level alc.LogLevel Severity.
---@param fmt string Format string.
---@param ... any Values.
function alc.log_fmt(level, fmt, ...) end

---Runs every case of a scenario through a strategy package and grades the answers (package evalframe).
---@param scenario alc.EvalScenario|string A scenario table, or a module name / file path returning one.
---@param strategy? string Package whose run(ctx) gets ctx.task = case.input (nil if the scenario has a provider).
---@param opts? alc.EvalOpts Options.
---@return alc.EvalReport report
function alc.eval(scenario, strategy, opts) end
