{#-
    Every profile feature per segment of the current run, in original units: mean, median,
    the overall mean and standard deviation, the lift (segment mean / overall mean) and
    the z-score of the segment mean ((mean - overall mean) / overall sd).
-#}
with

segments as (
    select
        customer_id,
        segment_id,
        run_id
    from {{ ref('shopseg', 'customer_segments') }}
),

features as (
    select * from {{ ref('shopseg', 'customer_features') }}
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

long as (
    {% for feature in shop_profile_features() %}
        select
            run_id,
            segment_id,
            '{{ feature }}' as feature,
            count({{ feature }}) as customers_with_value,
            avg(1.0 * {{ feature }}) as mean_value,
            percentile_cont(0.5) within group (order by {{ feature }}) as median_value
        from joined
        group by 1, 2
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

overall as (
    {% for feature in shop_profile_features() %}
        select
            '{{ feature }}' as feature,
            avg(1.0 * {{ feature }}) as overall_mean,
            stddev_samp(1.0 * {{ feature }}) as overall_sd
        from joined
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        long.run_id,
        long.segment_id,
        long.feature,
        long.customers_with_value,
        {{ shop_round('long.mean_value') }} as mean_value,
        long.median_value,
        {{ shop_round('overall.overall_mean') }} as overall_mean,
        {{ shop_round('overall.overall_sd') }} as overall_sd,
        case
            when overall.overall_mean != 0
                then {{ shop_round('long.mean_value / overall.overall_mean') }}
        end as lift,
        case
            when overall.overall_sd > 0
                then {{ shop_round(
                    '(long.mean_value - overall.overall_mean) / overall.overall_sd') }}
        end as z_score
    from long
    inner join overall
        on long.feature = overall.feature
)

select * from final
