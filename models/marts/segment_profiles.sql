{#-
    One row per segment of the current run: size, name, the features that set it apart,
    the dominant lifecycle stage, the key purchase and browsing figures, how well the
    segment reproduces on refits (bootstrap Jaccard), and what customer_predictions expects
    of it over the horizon (revenue, churn risk, revenue at risk).
-#}
{%- set at_risk = shop_var_number('shop_at_risk_min_p_no_order', minimum=0, maximum=1) %}
{#- the statuses whose order figures (p_no_order) stand; expected_revenue needs 'ok' #}
{%- set order_figures = "('ok', 'spend_fit_failed')" %}
with

segments as (
    select * from {{ ref('shopseg', 'customer_segments') }}
),

features as (
    select * from {{ ref('shopseg', 'customer_features') }}
),

names as (
    select * from {{ ref('shopseg', 'int_segment_names') }}
),

feature_profiles as (
    select * from {{ ref('shopseg', 'segment_feature_profiles') }}
),

stability as (
    select * from {{ ref('shopseg', 'int_segment_stability') }}
),

predictions as (
    select * from {{ ref('shopseg', 'customer_predictions') }}
),

joined as (
    select
        segments.segment_id,
        segments.run_id,
        features.*
    from segments
    inner join features
        on segments.customer_id = features.customer_id
),

sizes as (
    select
        segment_id,
        count(*) as customers,
        sum(monetary) as revenue
    from joined
    group by 1
),

averages as (
    -- the means segment_feature_profiles adds up exactly (in no order-dependent way)
    select
        segment_id,
        {%- for feature in [
            'recency_days', 'order_count', 'monetary', 'avg_order_value',
            'discounted_order_share', 'session_count', 'product_view_count', 'tenure_days',
            'age', 'income',
        ] %}
            max(case when feature = '{{ feature }}' then mean_value end)
                as avg_{{ feature | replace('avg_', '') }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from feature_profiles
    group by 1
),

predicted as (
    -- over the customers with a prediction; money as decimals, which add up in any order
    select
        joined.segment_id,
        count(
            case when predictions.prediction_status in {{ order_figures }} then 1 end
        ) as predicted_customers,
        sum(
            case
                when predictions.prediction_status = 'ok'
                    then cast(predictions.expected_revenue as decimal(38, 2))
            end
        ) as expected_revenue,
        {{ shop_exact_avg(
            "case when predictions.prediction_status in " ~ order_figures ~ " then predictions.p_no_order end",
            '0',
            '1',
        ) }} as mean_p_no_order,
        count(
            case
                when
                    predictions.prediction_status in {{ order_figures }}
                    and predictions.p_no_order >= {{ at_risk }}
                    then 1
            end
        ) as at_risk_customers,
        sum(
            case
                when
                    predictions.prediction_status in {{ order_figures }}
                    and predictions.p_no_order >= {{ at_risk }}
                    then joined.monetary
            end
        ) as at_risk_revenue
    from joined
    inner join predictions
        on joined.customer_id = predictions.customer_id
    group by 1
),

totals as (
    select
        sum(customers) as customers,
        sum(revenue) as revenue
    from sizes
),

stages as (
    select
        segment_id,
        lifecycle_stage,
        count(*) as customers,
        row_number() over (
            partition by segment_id order by count(*) desc, lifecycle_stage asc
        ) as stage_rank
    from joined
    group by 1, 2
),

distinguishing as (
    -- features known for at least half of the segment, by distance from the overall mean
    select
        feature_profiles.segment_id,
        feature_profiles.feature,
        feature_profiles.z_score,
        row_number() over (
            partition by feature_profiles.segment_id
            order by abs(feature_profiles.z_score) desc, feature_profiles.feature asc
        ) as feature_rank
    from feature_profiles
    inner join sizes
        on feature_profiles.segment_id = sizes.segment_id
    where
        feature_profiles.z_score is not null
        and feature_profiles.customers_with_value >= 0.5 * sizes.customers
),

top_features as (
    select
        segment_id,
        max(case when feature_rank = 1 then feature end) as top_feature_1,
        max(case when feature_rank = 1 then z_score end) as top_feature_1_z,
        max(case when feature_rank = 2 then feature end) as top_feature_2,
        max(case when feature_rank = 2 then z_score end) as top_feature_2_z,
        max(case when feature_rank = 3 then feature end) as top_feature_3,
        max(case when feature_rank = 3 then z_score end) as top_feature_3_z
    from distinguishing
    where feature_rank <= 3
    group by 1
),

final as (
    select
        names.run_id,
        sizes.segment_id,
        names.segment_name,
        names.generated_name,
        sizes.customers,
        1.0 * sizes.customers / totals.customers as customer_share,
        sizes.revenue,
        case when totals.revenue > 0 then sizes.revenue / totals.revenue end as revenue_share,
        stages.lifecycle_stage as dominant_lifecycle_stage,
        1.0 * stages.customers / sizes.customers as dominant_lifecycle_stage_share,
        top_features.top_feature_1,
        top_features.top_feature_1_z,
        top_features.top_feature_2,
        top_features.top_feature_2_z,
        top_features.top_feature_3,
        top_features.top_feature_3_z,
        averages.avg_recency_days,
        averages.avg_order_count,
        averages.avg_monetary,
        averages.avg_order_value,
        averages.avg_discounted_order_share,
        averages.avg_session_count,
        averages.avg_product_view_count,
        averages.avg_tenure_days,
        averages.avg_age,
        averages.avg_income,
        stability.segment_jaccard,
        (
            stability.segment_jaccard
            >= {{ shop_var_number('shop_min_segment_jaccard', minimum=0, maximum=1) }}
        ) as is_reproducible,
        case
            when predicted.predicted_customers > 0 then predicted.expected_revenue
        end as expected_revenue,
        case
            when predicted.predicted_customers > 0 then predicted.mean_p_no_order
        end as mean_p_no_order,
        case
            when predicted.predicted_customers > 0 then predicted.at_risk_customers
        end as at_risk_customers,
        case
            when predicted.predicted_customers > 0 then coalesce(predicted.at_risk_revenue, 0)
        end as at_risk_revenue
    from sizes
    cross join totals
    inner join names
        on sizes.segment_id = names.segment_id
    left join stages
        on sizes.segment_id = stages.segment_id and stages.stage_rank = 1
    left join top_features
        on sizes.segment_id = top_features.segment_id
    left join averages
        on sizes.segment_id = averages.segment_id
    left join stability
        on sizes.segment_id = stability.segment_id
    left join predicted
        on sizes.segment_id = predicted.segment_id
)

select * from final
