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
        {% for feature in shop_profile_features() -%}
            cast(features.{{ feature }} as {{ shop_type_double() }}) as {{ feature }},
        {% endfor -%}
        features.customer_id
    from segments
    inner join features
        on segments.customer_id = features.customer_id
),

bounds as (
    -- each feature's minimum and range: the scale the exact means and deviations add on
    select
        {% for feature in shop_profile_features() -%}
            min({{ feature }}) as {{ feature }}__low,
            nullif(max({{ feature }}) - min({{ feature }}), 0) as {{ feature }}__span
            {%- if not loop.last %},{% endif %}
        {% endfor %}
    from joined
),

long as (
    {% for feature in shop_profile_features() %}
        select
            joined.run_id,
            joined.segment_id,
            '{{ feature }}' as feature,
            count(joined.{{ feature }}) as customers_with_value,
            {{ shop_exact_avg(
                'joined.' ~ feature, 'bounds.' ~ feature ~ '__low', 'bounds.' ~ feature ~ '__span'
            ) }} as mean_value,
            percentile_cont(0.5) within group (order by joined.{{ feature }}) as median_value
        from joined
        cross join bounds
        group by
            joined.run_id,
            joined.segment_id,
            bounds.{{ feature }}__low,
            bounds.{{ feature }}__span
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

overall_means as (
    {% for feature in shop_profile_features() %}
        select
            '{{ feature }}' as feature,
            {{ shop_exact_avg(
                'joined.' ~ feature, 'bounds.' ~ feature ~ '__low', 'bounds.' ~ feature ~ '__span'
            ) }} as overall_mean
        from joined
        cross join bounds
        group by bounds.{{ feature }}__low, bounds.{{ feature }}__span
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

overall as (
    {% for feature in shop_profile_features() %}
        select
            overall_means.feature,
            overall_means.overall_mean,
            {{ shop_exact_stddev(
                'joined.' ~ feature, 'overall_means.overall_mean',
                'bounds.' ~ feature ~ '__span'
            ) }} as overall_sd
        from joined
        cross join bounds
        inner join overall_means
            on overall_means.feature = '{{ feature }}'
        group by overall_means.feature, overall_means.overall_mean, bounds.{{ feature }}__span
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
