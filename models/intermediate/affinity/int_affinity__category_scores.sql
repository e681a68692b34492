{#-
    The one home of the recommendation score, computed at two moments from the completed
    purchases before each: `current` (the as-of time, what customer_recommendations offers)
    and `backtest` (shop_recommendation_backtest_days earlier, what recommendation_runs
    checks). For each segmented customer and each category bought by anyone by then that
    the customer had not bought, the score is the weighted mean of three shares of
    customers (0-1), weights the vars shop_recommendation_*_weight:

        segment_share      of the customer's segment, who bought the category
        also_bought_share  of the buyers of each category the customer bought, who bought
                           this one too (averaged; absent for a customer without purchases)
        shop_share         of all customers (the prior)

    The shop's share carries a segment with few buyers by the moment (at the backtest, a
    segment of customers who had not bought yet): its two or three buyers' picks do not
    decide. also_bought_share is the customer's own signal: the input events carry no
    product, so views and cart adds cannot point at a category, but the categories the
    customer bought can. The two baselines are ranked on the same candidates: segment_rank
    (the segment's best sellers alone) and popularity_rank (the shop's). Only rows some
    ranking puts in its top shop_recommendation_count are kept.
-#}
{%- set top_n = shop_var_number('shop_recommendation_count', minimum=1, whole=true) %}
{%- set days = shop_var_number('shop_recommendation_backtest_days', minimum=1, whole=true) %}
{%- set w_segment = shop_var_number('shop_recommendation_segment_weight', minimum=0) %}
{%- set w_also = shop_var_number('shop_recommendation_also_bought_weight', minimum=0) %}
{%- set w_popularity = shop_var_number('shop_recommendation_popularity_weight', minimum=0) %}
{%- if (w_segment | float) + (w_popularity | float) <= 0 -%}
    {{ exceptions.raise_compiler_error(
        "shopseg: shop_recommendation_segment_weight and shop_recommendation_popularity_weight "
        ~ "are both 0: a customer without purchases would have no score") }}
{%- endif -%}
{%- set double = shop_type_double() %}
{%- set text = dbt.type_string() %}
{%- set bigint = dbt.type_bigint() %}
with

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

segments as (
    select * from {{ ref('shopseg', 'customer_segments') }}
),

items as (
    select * from {{ ref('shopseg', 'int_order_items__enriched') }}
),

orders as (
    select * from {{ ref('shopseg', 'int_orders__cleaned') }}
),

moments as (
    select
        'current' as moment,
        as_of_at as scored_at
    from as_of
    union all
    select
        'backtest' as moment,
        {{ dbt.dateadd('day', -1 * days, 'as_of_at') }} as scored_at
    from as_of
),

bought as (
    -- what each segmented customer had bought by each moment (the current one: everything)
    select distinct
        moments.moment,
        items.customer_id,
        items.category
    from items
    inner join orders
        on items.order_id = orders.order_id
    inner join segments
        on items.customer_id = segments.customer_id
    cross join moments
    where
        moments.moment = 'current'
        or orders.ordered_at < moments.scored_at
),

buyers as (
    select
        moment,
        customer_id,
        count(*) as bought_categories,
        min(category) as first_category  -- the category, for one who bought one
    from bought
    group by 1, 2
),

scored_customers as (
    -- now: every segmented customer; at the backtest: those who had bought by then
    select
        moments.moment,
        segments.customer_id,
        segments.segment_id,
        segments.segment_name,
        segments.run_id,
        coalesce(buyers.bought_categories, 0) as bought_categories,
        buyers.first_category
    from segments
    cross join moments
    left join buyers
        on
            moments.moment = buyers.moment
            and segments.customer_id = buyers.customer_id
    where
        moments.moment = 'current'
        or buyers.customer_id is not null
),

population as (
    select count(*) as all_customers
    from segments
),

segment_sizes as (
    select
        segment_id,
        count(*) as segment_customers
    from segments
    group by 1
),

category_buyers as (
    select
        moment,
        category,
        count(*) as category_customers
    from bought
    group by 1, 2
),

segment_buyers as (
    select
        bought.moment,
        segments.segment_id,
        bought.category,
        count(*) as customers
    from bought
    inner join segments
        on bought.customer_id = segments.customer_id
    group by 1, 2, 3
),

pairs as (
    -- customers who bought both: the category they had, the candidate
    select
        had.moment,
        had.category as had_category,
        other.category,
        count(*) as both_customers
    from bought as had
    inner join bought as other
        on
            had.moment = other.moment
            and had.customer_id = other.customer_id
            and had.category != other.category
    group by 1, 2, 3
),

also_bought as (
    -- per customer and candidate: the sum over the customer's categories of the share of
    -- their buyers who bought the candidate too (exact decimals: the same sum in any order)
    select
        bought.moment,
        bought.customer_id,
        pairs.category,
        sum(cast(
            cast(pairs.both_customers as {{ double }}) / category_buyers.category_customers
            as {{ shop_exact_decimal() }}
        )) as share_sum
    from bought
    inner join pairs
        on
            bought.moment = pairs.moment
            and bought.category = pairs.had_category
    inner join category_buyers
        on
            bought.moment = category_buyers.moment
            and bought.category = category_buyers.category
    group by 1, 2, 3
),

candidates as (
    select
        scored_customers.moment,
        scored_customers.customer_id,
        scored_customers.segment_id,
        scored_customers.segment_name,
        scored_customers.run_id,
        scored_customers.bought_categories,
        scored_customers.first_category,
        category_buyers.category,
        coalesce(segment_buyers.customers, 0) as segment_category_customers,
        segment_sizes.segment_customers,
        category_buyers.category_customers,
        population.all_customers,
        also_bought.share_sum
    from scored_customers
    inner join category_buyers
        on scored_customers.moment = category_buyers.moment
    inner join segment_sizes
        on scored_customers.segment_id = segment_sizes.segment_id
    cross join population
    left join bought
        on
            scored_customers.moment = bought.moment
            and scored_customers.customer_id = bought.customer_id
            and category_buyers.category = bought.category
    left join segment_buyers
        on
            scored_customers.moment = segment_buyers.moment
            and scored_customers.segment_id = segment_buyers.segment_id
            and category_buyers.category = segment_buyers.category
    left join also_bought
        on
            scored_customers.moment = also_bought.moment
            and scored_customers.customer_id = also_bought.customer_id
            and category_buyers.category = also_bought.category
    where bought.customer_id is null
),

shares as (
    -- each share one division of exact integers (or of an exact decimal sum)
    select
        moment,
        customer_id,
        segment_id,
        segment_name,
        run_id,
        category,
        cast(bought_categories as {{ bigint }}) as bought_categories,
        first_category,
        cast(segment_category_customers as {{ double }}) / segment_customers as segment_share,
        cast(segment_category_customers as {{ double }}) * all_customers
        / (cast(segment_customers as {{ double }}) * category_customers) as lift,
        case
            when bought_categories > 0
                then cast(coalesce(share_sum, 0) as {{ double }}) / bought_categories
        end as also_bought_share,
        cast(category_customers as {{ double }}) / all_customers as shop_share
    from candidates
),

scored as (
    -- the weighted mean of the shares the customer has (no also_bought_share without purchases)
    select
        *,
        (
            {{ w_segment }} * segment_share
            + {{ w_also }} * coalesce(also_bought_share, 0)
            + {{ w_popularity }} * shop_share
        )
        / (
            {{ w_segment }} + {{ w_popularity }}
            + case when also_bought_share is null then 0 else {{ w_also }} end
        ) as score
    from shares
),

ranked as (
    select
        *,
        cast(row_number() over (
            partition by moment, customer_id
            order by score desc, segment_share desc, shop_share desc, category asc
        ) as {{ bigint }}) as recommendation_rank,
        cast(row_number() over (
            partition by moment, customer_id
            order by segment_share desc, lift desc, category asc
        ) as {{ bigint }}) as segment_rank,
        cast(row_number() over (
            partition by moment, customer_id
            order by shop_share desc, category asc
        ) as {{ bigint }}) as popularity_rank
    from scored
),

{#-
    The reason: one clause per signal with a weight above 0, the largest part of the score
    first (ties in the order below), leaving out a share of 0 of the segment (unless the
    shop's share is not weighed) or of the buyers of the customer's categories. Each clause
    starts '; by ', and the first loses its '; ' to 'bought '.
-#}
{%- set percent = "cast(cast(round({} * 100) as " ~ bigint ~ ") as " ~ text ~ ")" %}
{%- set clauses = [] %}
{%- if (w_segment | float) > 0 %}
    {%- do clauses.append({
        'part': w_segment ~ ' * segment_share',
        'text': "case when " ~ ("segment_share > 0" if (w_popularity | float) > 0 else "1 = 1")
        ~ " then " ~ dbt.concat([
            "'; by '", percent | replace('{}', 'segment_share'), "'% of '",
            "coalesce(segment_name, " ~ dbt.concat(["'segment '", "cast(segment_id as " ~ text ~ ")"])
            ~ ")",
            "' (lift '", "cast(cast(lift as decimal(18, 1)) as " ~ text ~ ")", "')'",
        ]) ~ " else '' end",
    }) %}
{%- endif %}
{%- if (w_also | float) > 0 %}
    {%- do clauses.append({
        'part': w_also ~ ' * coalesce(also_bought_share, 0)',
        'text': "case when also_bought_share = 0 then '' when bought_categories = 1 then "
        ~ dbt.concat([
            "'; by '", percent | replace('{}', 'also_bought_share'), "'% of '",
            'first_category', "' buyers'",
        ]) ~ " when bought_categories > 1 then " ~ dbt.concat([
            "'; by '", percent | replace('{}', 'also_bought_share'),
            "'% of the buyers of your '", "cast(bought_categories as " ~ text ~ ")",
            "' categories (average)'",
        ]) ~ " else '' end",
    }) %}
{%- endif %}
{%- if (w_popularity | float) > 0 %}
    {%- do clauses.append({
        'part': w_popularity ~ ' * shop_share',
        'text': dbt.concat(["'; by '", percent | replace('{}', 'shop_share'), "'% of all customers'"]),
    }) %}
{%- endif %}
{%- set positions = [] %}
{%- set placed = [] %}
{%- for i in range(clauses | length) %}
    {%- set ahead = ['1'] %}
    {%- for j in range(clauses | length) if j != i %}
        {%- do ahead.append(
            "case when " ~ clauses[j].part ~ (" >= " if j < i else " > ") ~ clauses[i].part
            ~ " then 1 else 0 end"
        ) %}
    {%- endfor %}
    {%- do positions.append("(" ~ ahead | join(' + ') ~ ")") %}
    {%- do placed.append(positions[-1] ~ " as clause_" ~ (i + 1) ~ "_place") %}
{%- endfor %}
{%- set ordered = [] %}
{%- for place in range(1, clauses | length + 1) %}
    {%- set arms = [] %}
    {%- for clause in clauses %}
        {%- do arms.append(
            "when clause_" ~ loop.index ~ "_place = " ~ place ~ " then " ~ clause.text
        ) %}
    {%- endfor %}
    {%- do ordered.append("case " ~ arms | join(' ') ~ " end") %}
{%- endfor %}

kept as (
    select *
    from ranked
    where
        recommendation_rank <= {{ top_n }}
        or segment_rank <= {{ top_n }}
        or popularity_rank <= {{ top_n }}
),

placed as (
    -- where each clause of the reason goes: 1 + the clauses with a larger part of the score
    select
        *,
        {{ placed | join(', ') }}
    from kept
),

explained as (
    select
        moment,
        customer_id,
        segment_id,
        segment_name,
        run_id,
        category,
        bought_categories,
        segment_share,
        lift,
        also_bought_share,
        shop_share,
        score,
        recommendation_rank,
        segment_rank,
        popularity_rank,
        {{ dbt.concat(["'bought '", "substr(" ~ dbt.concat(ordered) ~ ", 3)"]) }} as reason
    from placed
)

select * from explained
