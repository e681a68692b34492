{#-
    One row per build that passed every gate: the K-means model (run_id) and the classifier
    run it promoted. dbt runs this model only after every mart below was built and all their
    tests passed, so a failed gate promotes nothing; the next build's model stores start
    from the latest row (macros/utils/model_store.sql). Publishing is not needed for it.
    Only `dbt build` promotes: `dbt run` runs no test before it, so it adds no row.
-#}
{%- set promotes = flags.WHICH in ('build', 'retry') -%}
{%- if execute and not promotes -%}
    {{ log("shopseg: dbt " ~ flags.WHICH ~ " runs no gate first: the model stores are not "
        ~ "promoted (only dbt build promotes)", info=true) }}
{%- endif %}
-- depends_on: {{ ref('shopseg', 'customer_features') }}
-- depends_on: {{ ref('shopseg', 'customer_predictions') }}
-- depends_on: {{ ref('shopseg', 'customer_recommendations') }}
-- depends_on: {{ ref('shopseg', 'customer_segments') }}
-- depends_on: {{ ref('shopseg', 'data_quality_issues') }}
-- depends_on: {{ ref('shopseg', 'prediction_calibration') }}
-- depends_on: {{ ref('shopseg', 'prediction_runs') }}
-- depends_on: {{ ref('shopseg', 'recommendation_runs') }}
-- depends_on: {{ ref('shopseg', 'segment_category_affinity') }}
-- depends_on: {{ ref('shopseg', 'segment_centroids') }}
-- depends_on: {{ ref('shopseg', 'segment_classifier_class_metrics') }}
-- depends_on: {{ ref('shopseg', 'segment_confusion') }}
-- depends_on: {{ ref('shopseg', 'segment_dendrogram') }}
-- depends_on: {{ ref('shopseg', 'segment_feature_importance') }}
-- depends_on: {{ ref('shopseg', 'segment_feature_profiles') }}
-- depends_on: {{ ref('shopseg', 'segment_k_selection') }}
-- depends_on: {{ ref('shopseg', 'segment_migration') }}
-- depends_on: {{ ref('shopseg', 'segment_model_versions') }}
-- depends_on: {{ ref('shopseg', 'segment_product_affinity') }}
-- depends_on: {{ ref('shopseg', 'segment_profiles') }}
-- depends_on: {{ ref('shopseg', 'segment_rules') }}
with

runs as (
    select * from {{ ref('shopseg', 'segmentation_runs') }}
    where is_current
),

classifier as (
    select max(run_id) as classifier_run_id
    from {{ ref('shopseg', 'segment_classifier_metrics') }}
    where is_current
),

earlier as (
    {% if is_incremental() -%}
        select coalesce(max(promotion_seq), 0) as promotion_seq from {{ this }}
    {%- else -%}
        select 0 as promotion_seq
    {%- endif %}
),

final as (
    select
        cast(earlier.promotion_seq + 1 as {{ dbt.type_bigint() }}) as promotion_seq,
        runs.run_id,
        runs.run_seq,
        classifier.classifier_run_id,
        runs.customers,
        runs.as_of_at,
        cast(
            '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}
        ) as promoted_at,
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as invocation_id
    from runs
    cross join classifier
    cross join earlier
    where {{ 'true' if promotes else 'false' }}
)

select * from final
